import { bundledScenes } from '@telekit/sim-genesis';
import { describeSimulator } from '@telekit/testkit';
import { wasmSimulator } from '../src/index.js';
import { fileScenes } from '../src/server/index.js';

const scenes = fileScenes(bundledScenes);

describeSimulator('mujoco wasm', async () => wasmSimulator({ scenes }), {
  scene: { id: 'diff-drive', path: 'diff-drive' },
});

describeSimulator('mujoco wasm, arm', async () => wasmSimulator({ scenes }), {
  scene: { id: 'arm', path: 'arm' },
  joint: { name: 'shoulder', target: 1 },
});
