import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const guides = join(root, 'docs/guides');

/** A fenced ```ts block of a guide, with the line it starts on. */
interface Block {
  readonly line: number;
  readonly code: string;
}

function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
    blocks.push({ line: start + 1, code: `${lines.slice(start, i + 1).join('\n')}\n` });
    i++;
  }
  return blocks;
}

const trimmed = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/**
 * Every guide's TypeScript, checked: a block whose first line is `// file: <path>` is that file
 * (identical to it where it exists in the repository, else a module of its own at that path); one
 * whose first line is `// excerpt: <path>` must appear, line for line, in that file; any other block
 * is a module of its own in the guide's code root (`<!-- guide-code-root: <dir> -->`, default the
 * guides' folder). The modules are type-checked together against the workspace sources, as strictly
 * as the packages are; `@telekit/*` resolves from the code root, else from the package itself.
 */
describe('the guides’ code', () => {
  const files = existsSync(guides) ? readdirSync(guides).filter((f) => f.endsWith('.md')) : [];

  it('there are guides to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    describe(file, () => {
      const markdown = readFileSync(join(guides, file), 'utf8');
      const codeRoot = join(root, /<!-- guide-code-root: (\S+) -->/.exec(markdown)?.[1] ?? 'docs/guides');
      const blocks = tsBlocks(markdown);
      const modules = new Map<string, Block>();
      const excerpts: { path: string; block: Block }[] = [];
      for (const [n, block] of blocks.entries()) {
        const marker = /^\/\/ (file|excerpt): (\S+)/.exec(block.code);
        if (marker?.[1] === 'excerpt') excerpts.push({ path: join(root, marker[2]!), block });
        else if (marker) modules.set(join(root, marker[2]!), block);
        else modules.set(join(codeRoot, `.guide-${file.replace(/\.md$/, '')}-${n}.ts`), block);
      }

      it('has TypeScript to check', () => {
        expect(blocks.length).toBeGreaterThan(0);
      });

      it('shows real files as they are', () => {
        for (const [path, block] of modules) {
          if (!existsSync(path)) continue;
          const shown = block.code.slice(block.code.indexOf('\n') + 1);
          expect(shown, `${file}:${block.line} shows ${relative(root, path)}`).toBe(
            readFileSync(path, 'utf8'),
          );
        }
        for (const { path, block } of excerpts) {
          const body = trimmed(block.code).slice(1);
          const source = trimmed(readFileSync(path, 'utf8'));
          const at = source.findIndex((_, i) => body.every((l, j) => source[i + j] === l));
          expect(
            at,
            `${file}:${block.line}: an excerpt not found in ${relative(root, path)}`,
          ).toBeGreaterThanOrEqual(0);
        }
      });

      it('type-checks', { timeout: 120_000 }, () => {
        const options: ts.CompilerOptions = {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          moduleResolution: ts.ModuleResolutionKind.Bundler,
          customConditions: ['source'],
          lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          noEmit: true,
        };
        const host = ts.createCompilerHost(options);
        const virtual = (path: string) => modules.get(path)?.code;
        const { fileExists, readFile, getSourceFile } = host;
        host.fileExists = (path) => modules.has(path) || fileExists.call(host, path);
        host.readFile = (path) => virtual(path) ?? readFile.call(host, path);
        host.getSourceFile = (path, language, onError, create) => {
          const code = virtual(path);
          return code === undefined
            ? getSourceFile.call(host, path, language, onError, create)
            : ts.createSourceFile(path, code, language, true);
        };
        host.directoryExists = (dir) =>
          [...modules.keys()].some((m) => dirname(m).startsWith(dir)) || ts.sys.directoryExists(dir);
        // A guide's code imports any workspace package by its name, as an app would, wherever its code
        // root is: a name its folder cannot resolve is resolved by the package itself (self-reference).
        host.resolveModuleNames = (names, containingFile) =>
          names.map((name) => {
            const found = ts.resolveModuleName(name, containingFile, options, host).resolvedModule;
            const pkg = /^@telekit\/([^/]+)/.exec(name)?.[1];
            if (found || !pkg || !existsSync(join(root, 'packages', pkg))) return found;
            return ts.resolveModuleName(name, join(root, 'packages', pkg, 'src/index.ts'), options, host)
              .resolvedModule;
          });
        const program = ts.createProgram([...modules.keys()], options, host);
        const problems = [...modules.entries()].flatMap(([path, block]) => {
          const source = program.getSourceFile(path)!;
          return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
            (d) => {
              const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
              return `${file}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
            },
          );
        });
        expect(problems).toEqual([]);
      });
    });
  }
});
