/**
 * A small benchmark harness: every benchmark measures a baseline and one or more candidates in the
 * same run, on the same machine, and reports ratios rather than absolute timings — these machines
 * are shared and noisy, and only a ratio measured side by side means anything.
 *
 * @module
 */

/** What one measured variant produced. */
export interface BenchMeasurement {
  /** Per-operation latencies, ms (for latency benchmarks). */
  samples?: number[];
  /** A rate, per second (for throughput benchmarks). */
  rate?: number;
  /** A size, bytes (for memory benchmarks). */
  bytes?: number;
  /** Anything else worth printing (delivered, dropped, …). */
  extra?: Record<string, number | string>;
}

/** One variant: the baseline or a candidate. */
export interface BenchVariant {
  readonly name: string;
  run(): Promise<BenchMeasurement>;
}

/** A benchmark: a baseline and candidates measuring the same thing. */
export interface Benchmark {
  /** Short, stable id, used as a key in the results file. */
  readonly id: string;
  readonly title: string;
  /**
   * What the samples or figures are: `latency` (ms samples), `throughput` (a rate), `memory`
   * (bytes), or `error` (distance samples in metres, e.g. how far two simulations drift apart).
   */
  readonly kind: 'latency' | 'throughput' | 'memory' | 'error';
  readonly baseline: BenchVariant;
  readonly candidates: readonly BenchVariant[];
  /**
   * Why this benchmark cannot run here (it needs root, a GPU, a ROS 2 install…), or undefined when
   * it can. The runner prints the reason and moves on.
   */
  unavailable?(): string | undefined | Promise<string | undefined>;
}

/** Figures of one variant. */
export interface VariantResult {
  readonly name: string;
  readonly p50?: number;
  readonly p99?: number;
  readonly mean?: number;
  readonly max?: number;
  readonly rate?: number;
  readonly bytes?: number;
  readonly samples?: number;
  readonly extra?: Record<string, number | string>;
}

/** One benchmark's results, with each candidate's ratio to the baseline. */
export interface BenchResult {
  readonly id: string;
  readonly title: string;
  readonly kind: Benchmark['kind'];
  readonly baseline: VariantResult;
  readonly candidates: readonly (VariantResult & {
    /** Candidate ÷ baseline: for latency, of p50 and p99 (above 1 is slower); for throughput, of the rate (below 1 is slower). */
    readonly ratio: { p50?: number; p99?: number; rate?: number; bytes?: number };
  })[];
}

/** The value at quantile `q` (0–1) of ascending-sorted `sorted`. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(name: string, m: BenchMeasurement): VariantResult {
  if (m.samples) {
    const sorted = [...m.samples].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    return {
      name,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      mean,
      max: sorted.at(-1)!,
      samples: sorted.length,
      ...(m.extra ? { extra: m.extra } : {}),
    };
  }
  return {
    name,
    ...(m.rate === undefined ? {} : { rate: m.rate }),
    ...(m.bytes === undefined ? {} : { bytes: m.bytes }),
    ...(m.extra ? { extra: m.extra } : {}),
  };
}

/** Runs a benchmark: baseline first, then each candidate; `progress` hears what is running. */
export async function runBenchmark(
  b: Benchmark,
  progress: (line: string) => void = () => {},
): Promise<BenchResult> {
  progress(`${b.title}: ${b.baseline.name} (baseline)`);
  const baseline = summarize(b.baseline.name, await b.baseline.run());
  const candidates: BenchResult['candidates'][number][] = [];
  for (const c of b.candidates) {
    progress(`${b.title}: ${c.name}`);
    const r = summarize(c.name, await c.run());
    const ratio: { p50?: number; p99?: number; rate?: number; bytes?: number } = {};
    if (r.bytes !== undefined && baseline.bytes) ratio.bytes = r.bytes / baseline.bytes;
    if (r.p50 !== undefined && baseline.p50) ratio.p50 = r.p50 / baseline.p50;
    if (r.p99 !== undefined && baseline.p99) ratio.p99 = r.p99 / baseline.p99;
    if (r.rate !== undefined && baseline.rate) ratio.rate = r.rate / baseline.rate;
    candidates.push({ ...r, ratio });
  }
  return { id: b.id, title: b.title, kind: b.kind, baseline, candidates };
}

const duration = (ms: number | undefined) =>
  ms === undefined ? '-' : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
const rate = (r: number | undefined) =>
  r === undefined ? '-' : r < 100 ? `${r.toFixed(3)}/s` : `${Math.round(r).toLocaleString('en-US')}/s`;
const x = (v: number | undefined) => (v === undefined ? '' : `${v.toFixed(2)}×`);

const notes = (e?: Record<string, number | string>) =>
  e
    ? Object.entries(e)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '';
const mm = (m: number | undefined) => (m === undefined ? '-' : `${(m * 1000).toFixed(3)} mm`);
const kib = (b: number | undefined) => (b === undefined ? '-' : `${(b / 1024).toFixed(1)} KiB`);

/** Renders a result as aligned text lines. */
export function formatResult(r: BenchResult): string {
  const rows: string[][] = [];
  const base = `${r.baseline.name} (baseline)`;
  if (r.kind === 'latency') {
    rows.push(['variant', 'p50', 'p99', 'p50 ratio', 'p99 ratio', 'notes']);
    rows.push([
      base,
      duration(r.baseline.p50),
      duration(r.baseline.p99),
      '1.00×',
      '1.00×',
      notes(r.baseline.extra),
    ]);
    for (const c of r.candidates)
      rows.push([c.name, duration(c.p50), duration(c.p99), x(c.ratio.p50), x(c.ratio.p99), notes(c.extra)]);
  } else if (r.kind === 'error') {
    rows.push(['variant', 'p50', 'p99', 'max', 'p99 ratio', 'notes']);
    const b = r.baseline;
    rows.push([base, mm(b.p50), mm(b.p99), mm(b.max), '1.00×', notes(b.extra)]);
    for (const c of r.candidates)
      rows.push([c.name, mm(c.p50), mm(c.p99), mm(c.max), x(c.ratio.p99), notes(c.extra)]);
  } else if (r.kind === 'memory') {
    rows.push(['variant', 'size', 'size ratio', 'notes']);
    rows.push([base, kib(r.baseline.bytes), '1.00×', notes(r.baseline.extra)]);
    for (const c of r.candidates) rows.push([c.name, kib(c.bytes), x(c.ratio.bytes), notes(c.extra)]);
  } else {
    rows.push(['variant', 'rate', 'rate ratio', 'notes']);
    rows.push([base, rate(r.baseline.rate), '1.00×', notes(r.baseline.extra)]);
    for (const c of r.candidates) rows.push([c.name, rate(c.rate), x(c.ratio.rate), notes(c.extra)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  return [`${r.title}`, ...lines].join('\n');
}

/**
 * Measures the latency of an asynchronous operation `iterations` times after `warmup` untimed runs.
 */
export async function measureLatency(
  op: () => Promise<void>,
  options: { iterations: number; warmup?: number },
): Promise<number[]> {
  for (let i = 0; i < (options.warmup ?? Math.ceil(options.iterations / 10)); i++) await op();
  const samples = new Array<number>(options.iterations);
  for (let i = 0; i < options.iterations; i++) {
    const t0 = performance.now();
    await op();
    samples[i] = performance.now() - t0;
  }
  return samples;
}
