/** p50, p99 and how many values they come from. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

/** The value at quantile `q` of `sorted` (nearest rank). */
const rank = (sorted: ArrayLike<number>, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/**
 * p50 and p99 of `values` (nearest rank), or null when there are none.
 *
 * @example
 * ```ts
 * import { percentiles } from '@telekit/core';
 * percentiles([4, 1, 3, 2]); // { p50: 2, p99: 4, count: 4 }
 * ```
 */
export function percentiles(values: ArrayLike<number>): Percentiles | null {
  if (values.length === 0) return null;
  // A typed array sorts numerically, without a comparator call per pair.
  const sorted = Float64Array.from(values).sort();
  return { p50: rank(sorted, 0.5), p99: rank(sorted, 0.99), count: sorted.length };
}

/** The first capacity of a window's buffers: most windows see a few values a second. */
const FIRST_CAPACITY = 64;

/**
 * Values with the time each was taken (ms), kept for the last `windowMs` and at most `cap` of them
 * (the oldest go first). For figures a person reads — p50/p99 of the last few seconds — that are
 * fed on a hot path: adding a value stores two numbers in a ring and allocates nothing once the
 * ring has grown to what the rate needs; old values are dropped when the window is read.
 *
 * @example
 * ```ts
 * import { TimeWindow } from '@telekit/core';
 * const w = new TimeWindow(5_000);
 * w.add(performance.now(), 12.5);
 * w.percentiles(performance.now()); // { p50: 12.5, p99: 12.5, count: 1 }
 * ```
 */
export class TimeWindow {
  readonly windowMs: number;
  readonly cap: number;
  #at = new Float64Array(0);
  #values = new Float64Array(0);
  /** Where the oldest value is, and how many there are. */
  #head = 0;
  #size = 0;

  constructor(windowMs: number, cap = 4_096) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be a positive number of ms, got ${windowMs}`);
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
    this.windowMs = windowMs;
    this.cap = cap;
  }

  /** How many values are kept (some may be older than the window until it is read). */
  get size(): number {
    return this.#size;
  }

  add(at: number, value: number): void {
    if (this.#size === this.#at.length) {
      if (this.#size < this.cap) this.#grow();
      else {
        // Full: the oldest makes room.
        this.#head = (this.#head + 1) % this.#at.length;
        this.#size--;
      }
    }
    const i = (this.#head + this.#size) % this.#at.length;
    this.#at[i] = at;
    this.#values[i] = value;
    this.#size++;
  }

  /** The values taken in the window ending at `now`, oldest first. */
  values(now: number): number[] {
    return Array.from(this.#window(now));
  }

  percentiles(now: number): Percentiles | null {
    return percentiles(this.#window(now));
  }

  /** Forgets what is older than the window ending at `now`; a copy of the rest. */
  #window(now: number): Float64Array {
    const from = now - this.windowMs;
    const n = this.#at.length;
    while (this.#size > 0 && this.#at[this.#head]! < from) {
      this.#head = (this.#head + 1) % n;
      this.#size--;
    }
    const out = new Float64Array(this.#size);
    const first = Math.min(this.#size, n - this.#head);
    out.set(this.#values.subarray(this.#head, this.#head + first));
    if (first < this.#size) out.set(this.#values.subarray(0, this.#size - first), first);
    return out;
  }

  /** Doubles the ring (up to `cap`), the values in order from its start. */
  #grow(): void {
    const capacity = Math.min(this.cap, Math.max(FIRST_CAPACITY, this.#at.length * 2));
    const at = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % this.#at.length;
      at[k] = this.#at[i]!;
      values[k] = this.#values[i]!;
    }
    this.#at = at;
    this.#values = values;
    this.#head = 0;
  }
}
