/** p50, p99 and how many values they come from. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

/** p50 and p99 of `values` (nearest rank), or null when there are none. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: q(0.5), p99: q(0.99), count: sorted.length };
}

/** Values with the time they were taken (ms), kept for the last `windowMs`, at most `cap` of them. */
export class TimeWindow {
  readonly #at: number[] = [];
  readonly #values: number[] = [];

  constructor(
    readonly windowMs: number,
    readonly cap = 4_096,
  ) {}

  add(at: number, value: number): void {
    this.#at.push(at);
    this.#values.push(value);
    if (this.#at.length > this.cap) {
      this.#at.shift();
      this.#values.shift();
    }
  }

  /** The values taken in the window ending at `now`. */
  values(now: number): number[] {
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < this.#at.length && this.#at[drop]! < from) drop++;
    if (drop > 0) {
      this.#at.splice(0, drop);
      this.#values.splice(0, drop);
    }
    return this.#values.slice();
  }

  percentiles(now: number): Percentiles | null {
    return percentiles(this.values(now));
  }
}
