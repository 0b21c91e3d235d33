import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findPython } from '../src/index.js';

// The sidecar's own checks, with the tools of its `dev` extra (scripts/setup.sh installs them into
// .venv): pytest for its pure-Python parts (deadlines and fates, the deadman, the clock, the scene
// model), ruff for lint and format. Configured in python/pyproject.toml.
const cwd = fileURLToPath(new URL('../python/', import.meta.url));

function run(module: string, ...args: string[]) {
  const r = spawnSync(findPython(), ['-m', module, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (/No module named (pytest|ruff)/.test(out))
    throw new Error(
      `${module} is missing from the sidecar's Python: run bash scripts/setup.sh (it installs the dev extra)`,
    );
  return { status: r.status, out };
}

describe("the sidecar's Python", () => {
  it('passes its unit tests (pytest)', () => {
    const r = run('pytest', '-q', '-p', 'no:cacheprovider');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/\d+ passed/);
  });

  it('passes ruff check', () => {
    const r = run('ruff', 'check', '--no-cache', 'telekit_sim', 'tests');
    expect(r.status, r.out).toBe(0);
  });

  it('is formatted as ruff formats it', () => {
    const r = run('ruff', 'format', '--check', '--no-cache', 'telekit_sim', 'tests');
    expect(r.status, r.out).toBe(0);
  });
});
