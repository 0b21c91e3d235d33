/**
 * `pnpm bench`: runs every benchmark of the workspace — `bench/*.bench.ts` and
 * `packages/*\/bench/*.bench.ts`, each exporting `benchmarks: Benchmark[]` — prints each with its
 * baseline and ratios, and writes the results to bench/results/.
 *
 * Usage: pnpm bench [filter]   (runs the benchmarks whose id contains `filter`)
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, type BenchResult, formatResult, runBenchmark } from '@telekit/testkit/bench';

const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2] ?? '';

function benchFiles(): string[] {
  const files: string[] = [];
  const scan = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) if (f.endsWith('.bench.ts')) files.push(`${dir}/${f}`);
  };
  scan(`${root}bench`);
  for (const pkg of readdirSync(`${root}packages`)) scan(`${root}packages/${pkg}/bench`);
  return files.sort();
}

const results: BenchResult[] = [];
const started = Date.now();
const files = benchFiles();
const all: Benchmark[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(file).href)) as { benchmarks?: Benchmark[] };
  all.push(...(mod.benchmarks ?? []).filter((b) => b.id.includes(filter)));
}
console.log(
  `telekit bench: ${all.length} benchmark(s) from ${files.length} file(s); node ${process.version}, ${cpus().length} cores`,
);
console.log(
  'each figure is measured beside its baseline in this run; compare the ratios, not the absolute numbers\n',
);
for (const [i, b] of all.entries()) {
  const unavailable = await b.unavailable?.();
  if (unavailable) {
    console.log(`\n${b.title}\n  skipped: ${unavailable}\n`);
    continue;
  }
  const result = await runBenchmark(b, (line) =>
    process.stdout.write(`  [${i + 1}/${all.length}] running ${line}\n`),
  );
  results.push(result);
  console.log(`\n${formatResult(result)}\n`);
}
mkdirSync(`${root}bench/results`, { recursive: true });
const report = {
  startedAt: new Date(started).toISOString(),
  node: process.version,
  cpus: cpus().length,
  results,
};
const stamp = new Date(started).toISOString().replaceAll(':', '-');
writeFileSync(`${root}bench/results/${stamp}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${root}bench/results/latest.json`, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote bench/results/latest.json (${((Date.now() - started) / 1000).toFixed(1)} s)`);
