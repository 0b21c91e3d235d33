import { execFileSync } from 'node:child_process';
import { silentLogger } from '@telekit/core';
import { describeSimulator, missingRequirement } from '@telekit/testkit';
import { describe, it } from 'vitest';
import { findPython, sidecarSimulator } from '../src/index.js';

// Genesis (genesis-world) pulls PyTorch and wants a GPU; it is installed only by
// `bash scripts/setup.sh --genesis`. Where it is absent this suite says so and skips.
function genesisImportable(): boolean {
  try {
    execFileSync(findPython(), ['-c', 'import genesis'], { stdio: 'ignore', timeout: 120_000 });
    return true;
  } catch {
    return false;
  }
}

const reason = missingRequirement([
  { ok: genesisImportable(), need: 'genesis-world in .venv (bash scripts/setup.sh --genesis)' },
]);

if (reason) {
  describe(`genesis backend (skipped: ${reason})`, () => {
    it.skip(`describeSimulator on the genesis backend (skipped: ${reason})`, () => {});
  });
} else {
  describeSimulator(
    'genesis sidecar, arm',
    async () => sidecarSimulator({ backend: 'genesis', logger: silentLogger, requestTimeoutMs: 300_000 }),
    {
      scene: { id: 'arm', path: 'arm' },
      joint: { name: 'shoulder', target: 1 },
      timeoutMs: 300_000,
    },
  );
}
