import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodes } from '@telekit/core';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** Source files (not tests) of every package: TypeScript and the Python sidecar. */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.') || name === 'tests') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|py)$/.test(name) && !/\.test(-d)?\.ts$/.test(name)) out.push(path);
  }
  return out;
}

describe('error codes', () => {
  it('every code a package raises or sends is in core’s errorCodes, with what it means', () => {
    const unknown = new Map<string, string>();
    for (const pkg of readdirSync(join(root, 'packages'))) {
      for (const dir of ['src', 'python']) {
        let files: string[] = [];
        try {
          files = sources(join(root, 'packages', pkg, dir));
        } catch {
          continue;
        }
        for (const file of files) {
          for (const m of readFileSync(file, 'utf8').matchAll(/['"](E_[A-Z0-9_]+)['"]/g)) {
            if (!(m[1]! in errorCodes)) unknown.set(m[1]!, file.slice(root.length));
          }
        }
      }
    }
    expect(Object.fromEntries(unknown)).toEqual({});
    for (const meaning of Object.values(errorCodes)) expect(meaning.length).toBeGreaterThan(10);
  });
});
