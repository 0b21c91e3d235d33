import { silentLogger } from '@telekit/core';
import { describeSimulator } from '@telekit/testkit';
import { type SidecarSimulator, sidecarSimulator } from '../src/index.js';

const kill = async (sim: unknown) => void (sim as SidecarSimulator).process?.kill('SIGKILL');

describeSimulator(
  'mujoco sidecar',
  async () => sidecarSimulator({ backend: 'mujoco', logger: silentLogger }),
  {
    scene: { id: 'diff-drive', path: 'diff-drive' },
    timeoutMs: 30_000,
    kill,
  },
);

describeSimulator(
  'mujoco sidecar, arm',
  async () => sidecarSimulator({ backend: 'mujoco', logger: silentLogger }),
  {
    scene: { id: 'arm', path: 'arm' },
    joint: { name: 'shoulder', target: 1 },
    timeoutMs: 30_000,
  },
);
