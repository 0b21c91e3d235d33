/** A feature's statistics as LeRobot keeps them (`meta/stats.json`, `stats/<feature>/<stat>` per episode). */
export interface FeatureStats {
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
  count: [number];
  q01: number[];
  q10: number[];
  q50: number[];
  q90: number[];
  q99: number[];
}

/** The quantiles LeRobot's `compute_stats` keeps. */
export const QUANTILES = { q01: 0.01, q10: 0.1, q50: 0.5, q90: 0.9, q99: 0.99 } as const;

/** numpy's default (linear) quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Per-dimension statistics of rows of equal length (population std, as numpy's). */
export function vectorStats(rows: readonly (readonly number[])[], width: number): FeatureStats {
  const n = rows.length;
  const s: FeatureStats = {
    min: [],
    max: [],
    mean: [],
    std: [],
    count: [n],
    q01: [],
    q10: [],
    q50: [],
    q90: [],
    q99: [],
  };
  for (let d = 0; d < width; d++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = rows[i]![d]!;
    let sum = 0;
    for (const v of col) sum += v;
    const mean = n ? sum / n : 0;
    let sq = 0;
    for (const v of col) sq += (v - mean) ** 2;
    col.sort();
    s.min.push(n ? col[0]! : 0);
    s.max.push(n ? col[n - 1]! : 0);
    s.mean.push(mean);
    s.std.push(n ? Math.sqrt(sq / n) : 0);
    for (const [k, q] of Object.entries(QUANTILES)) s[k as keyof typeof QUANTILES].push(quantile(col, q));
  }
  return s;
}

/**
 * Per-channel statistics of sampled RGB pixels, from 256-bin histograms (values 0–255), scaled to
 * [0, 1] as LeRobot normalises images; shaped (3, 1, 1) as LeRobot keeps an image's statistics.
 */
export class ImageStats {
  readonly #hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  #frames = 0;

  /** Adds one RGB24 frame. */
  addFrame(rgb: Uint8Array): void {
    const [r, g, b] = this.#hist as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i + 2 < rgb.length; i += 3) {
      r[rgb[i]!]!++;
      g[rgb[i + 1]!]!++;
      b[rgb[i + 2]!]!++;
    }
    this.#frames++;
  }

  get frames(): number {
    return this.#frames;
  }

  /** A new statistics of this one's frames and `other`'s together. */
  merge(other: ImageStats): ImageStats {
    const out = new ImageStats();
    for (let c = 0; c < 3; c++) {
      const h = out.#hist[c]!;
      for (let v = 0; v < 256; v++) h[v] = this.#hist[c]![v]! + other.#hist[c]![v]!;
    }
    out.#frames = this.#frames + other.#frames;
    return out;
  }

  /** The statistics, each channel as `[[v]]`; count is the number of frames sampled. */
  result(): Record<keyof FeatureStats, unknown> {
    const per = this.#hist.map((h) => {
      let n = 0;
      let sum = 0;
      let sq = 0;
      let min = 255;
      let max = 0;
      for (let v = 0; v < 256; v++) {
        const c = h[v]!;
        if (!c) continue;
        n += c;
        sum += c * v;
        sq += c * v * v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const mean = n ? sum / n : 0;
      const quant = (q: number) => {
        if (!n) return 0;
        const target = q * (n - 1);
        let acc = 0;
        for (let v = 0; v < 256; v++) {
          acc += h[v]!;
          if (acc > target) return v;
        }
        return 255;
      };
      return {
        min: min / 255,
        max: max / 255,
        mean: mean / 255,
        std: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) / 255 : 0,
        ...Object.fromEntries(Object.entries(QUANTILES).map(([k, q]) => [k, quant(q) / 255])),
      } as Record<string, number>;
    });
    const shaped = (k: string) => per.map((c) => [[c[k]!]]);
    return {
      min: shaped('min'),
      max: shaped('max'),
      mean: shaped('mean'),
      std: shaped('std'),
      count: [this.#frames],
      q01: shaped('q01'),
      q10: shaped('q10'),
      q50: shaped('q50'),
      q90: shaped('q90'),
      q99: shaped('q99'),
    };
  }
}
