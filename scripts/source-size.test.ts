/**
 * The size rule: no source file over 400 lines and no function over 150 lines, unless the file is
 * listed below with the reason it is long. A file that grows past the limit fails here with its
 * length, so a split happens when the code is fresh in mind, not in a clean-up later.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 150;

/**
 * Files allowed past 400 lines, each with its reason. Only scenario files are here: one story read
 * top to bottom (a browser session, an attack, a bench), where cutting it would scatter its steps.
 */
const LONG_FILES: Record<string, string> = {
  'examples/teleop-sim/src/e2e.test.ts':
    'one Chromium session of the demo, its steps in order (each depends on the state the last left)',
  'examples/teleop-sim/src/page-checks.ts':
    'the page checks of the demo’s --check, one list a user reads to see what is checked',
  'examples/teleop-sim/src/check.ts': 'the demo’s --check run: start, drive, measure and report, in order',
  'packages/gateway/test-attack/fuzz.test.ts':
    'the raw-client attack suite: one gateway attacked in sequence, each case a short paragraph',
  'packages/gateway/bench/gateway.bench.ts': 'the gateway bench: its baseline and cases share one set-up',
};

const tracked = (): string[] =>
  execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.py'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && !f.endsWith('.d.ts') && (f.startsWith('packages/') || f.startsWith('examples/')));

/** Lines as `wc -l` counts them. */
const lines = (file: string) => readFileSync(`${root}${file}`, 'utf8').match(/\n/g)?.length ?? 0;

/** Functions longer than the limit in a TypeScript file (tests' `describe` bodies excepted). */
function longFunctionsTs(file: string): string[] {
  const text = readFileSync(`${root}${file}`, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = lineOf(node.getStart(source));
      const length = lineOf(node.getEnd()) - start + 1;
      const isTestBody =
        ts.isCallExpression(node.parent) &&
        /^(describe|it|test)\b/.test(node.parent.expression.getText(source));
      if (length > MAX_FUNCTION_LINES && !isTestBody) found.push(`${file}:${start} (${length} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Functions longer than the limit in the Python files, read by Python's own parser. */
function longFunctionsPy(files: string[]): string[] {
  const program = [
    'import ast, sys',
    'for path in sys.argv[2:]:',
    '    for node in ast.walk(ast.parse(open(path).read())):',
    '        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):',
    '            n = node.end_lineno - node.lineno + 1',
    '            if n > int(sys.argv[1]): print(f"{path}:{node.lineno} ({n} lines)")',
  ].join('\n');
  const r = spawnSync('python3', ['-c', program, String(MAX_FUNCTION_LINES), ...files], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python3 could not read the Python sources: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

describe('source size', () => {
  const files = tracked();

  it(`no file over ${MAX_FILE_LINES} lines without a stated reason`, () => {
    expect(files.length).toBeGreaterThan(100);
    const long = files
      .filter((f) => !(f in LONG_FILES))
      .map((f) => ({ f, n: lines(f) }))
      .filter(({ n }) => n > MAX_FILE_LINES)
      .map(({ f, n }) => `${f} (${n} lines)`);
    expect(long).toEqual([]);
  });

  it('each stated reason still applies: the file exists and is long', () => {
    for (const f of Object.keys(LONG_FILES)) {
      expect(files, f).toContain(f);
      expect(lines(f), f).toBeGreaterThan(MAX_FILE_LINES);
    }
  });

  it(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = [
      ...files.filter((f) => f.endsWith('.ts')).flatMap(longFunctionsTs),
      ...longFunctionsPy(files.filter((f) => f.endsWith('.py'))),
    ];
    expect(long).toEqual([]);
  });
});
