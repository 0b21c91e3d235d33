import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { findPython } from '../src/index.js';

// The sidecar's pure-Python parts (deadlines and fates, the deadman, the clock), tested in Python
// with unittest (pytest runs them too): `python -m unittest discover -s tests -t .` in python/.
it('the sidecar’s Python unit tests pass', () => {
  const run = spawnSync(findPython(), ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
    cwd: fileURLToPath(new URL('../python/', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stderr).toMatch(/^Ran \d+ tests/m);
  expect(run.stderr).toMatch(/^OK$/m);
});
