import { execFileSync } from 'node:child_process';
import { silentLogger } from '@telekit/core';
import { describeSimulator, missingRequirement } from '@telekit/testkit';
import { describe, it } from 'vitest';
import { findPython, type SidecarSimulator, sidecarSimulator } from '../src/index.js';

// Genesis (genesis-world) pulls PyTorch and wants a GPU; it is installed only by
// `bash scripts/setup.sh --genesis` (or in a Python of your own, named by $TELEKIT_PYTHON). Where it
// is absent this suite says so and skips. Found without importing it (that takes 10–30 s).
function genesisImportable(): boolean {
  const probe = 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("genesis") else 1)';
  try {
    execFileSync(findPython(), ['-c', probe], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

const reason = missingRequirement([
  {
    ok: genesisImportable(),
    need: `genesis-world importable by ${findPython()} (bash scripts/setup.sh --genesis, or TELEKIT_PYTHON)`,
  },
]);

// One sidecar per suite (`shared`): each Genesis start builds its scene and loads its kernels (tens
// of seconds with a warm kernel cache, minutes with an empty one), so the cases reset instead.
const genesis = async () =>
  sidecarSimulator({ backend: 'genesis', logger: silentLogger, requestTimeoutMs: 300_000 });
const kill = async (sim: unknown) => void (sim as SidecarSimulator).process?.kill('SIGKILL');

if (reason) {
  describe(`genesis backend (skipped: ${reason})`, () => {
    it.skip(`describeSimulator on the genesis backend, diff-drive and arm (skipped: ${reason})`, () => {});
  });
} else {
  describeSimulator('genesis sidecar, diff-drive', genesis, {
    scene: { id: 'diff-drive', path: 'diff-drive' },
    timeoutMs: 300_000,
    shared: true,
    kill,
  });
  describeSimulator('genesis sidecar, arm', genesis, {
    scene: { id: 'arm', path: 'arm' },
    joint: { name: 'shoulder', target: 1 },
    timeoutMs: 300_000,
    shared: true,
  });
}
