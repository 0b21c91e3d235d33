import type { Percentiles } from '../protocol.js';

/** The last `size` values of something (round trips, latencies), with their percentiles. */
export class Recent {
  readonly #values: number[] = [];
  readonly #size: number;
  #next = 0;

  constructor(size: number) {
    this.#size = size;
  }

  add(value: number): void {
    if (this.#values.length < this.#size) this.#values.push(value);
    else this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#size;
  }

  get count(): number {
    return this.#values.length;
  }

  /** p50 and p99 of the values kept, or null when there are none. */
  percentiles(): Percentiles | null {
    if (this.#values.length === 0) return null;
    const sorted = [...this.#values].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
    return { p50: q(0.5), p99: q(0.99), count: sorted.length };
  }
}
