import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** Every published entry of every package: `@telekit/x` or `@telekit/x/sub` → its source file. */
function entries(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, null | string | { source?: string }>;
    };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (target === null || typeof target === 'string' || !target.source) continue;
      const name = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
      out.set(name, join(root, 'packages', dir, target.source));
    }
  }
  return out;
}

// What each package offers is a decision, not an accident: this pins every entry's export list (types
// and values), read by the TypeScript compiler. A change shows here; accept it with `vitest -u`.
describe('the public API', () => {
  it('every entry of every package exports exactly what its list says', { timeout: 120_000 }, async () => {
    const files = entries();
    const program = ts.createProgram([...files.values()], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      customConditions: ['source'],
      skipLibCheck: true,
      noEmit: true,
      strict: true,
    });
    const checker = program.getTypeChecker();
    const lines: string[] = [];
    for (const [name, file] of files) {
      const source = program.getSourceFile(file);
      const symbol = source && checker.getSymbolAtLocation(source);
      const names = symbol ? checker.getExportsOfModule(symbol).map((s) => s.getName()) : [];
      lines.push(`${name} (${names.length})`, ...names.sort().map((n) => `  ${n}`), '');
    }
    await expect(lines.join('\n')).toMatchFileSnapshot('./public-api.snapshot.txt');
  });
});
