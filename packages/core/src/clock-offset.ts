/**
 * NTP-style clock-offset estimation between two peers.
 *
 * A probe records four times: the client sends (`t0`, client clock), the server receives (`t1`) and
 * answers (`t2`, server clock), the client receives (`t3`, client clock). Then
 *
 * - round-trip delay `δ = (t3 − t0) − (t2 − t1)`
 * - offset `θ = ((t1 − t0) + (t2 − t3)) / 2`, the server's clock minus the client's.
 *
 * The estimate is exact when the two legs take the same time and off by at most `δ / 2` otherwise,
 * so the estimator keeps the sample with the smallest delay among the last `window` (the NTP
 * clock-filter idea): queueing only ever adds delay, and the least-delayed sample is the least skewed.
 *
 * @module
 */

/** The four timestamps of one probe, in ms. */
export interface OffsetSample {
  /** Client sent the probe (client clock). */
  t0: number;
  /** Server received it (server clock). */
  t1: number;
  /** Server sent the answer (server clock). */
  t2: number;
  /** Client received the answer (client clock). */
  t3: number;
}

/** The current estimate. */
export interface OffsetEstimate {
  /** Server clock minus client clock, ms. Add it to a client time to get server time. */
  offset: number;
  /** Round-trip delay of the sample the estimate comes from, ms. */
  rtt: number;
  /** The error bound of `offset`: half that sample's round trip, ms. */
  uncertainty: number;
  /** Samples currently in the window. */
  samples: number;
}

/** Offset and delay of a single probe. */
export function offsetOf(s: OffsetSample): { offset: number; rtt: number } {
  return { offset: (s.t1 - s.t0 + (s.t2 - s.t3)) / 2, rtt: Math.max(0, s.t3 - s.t0 - (s.t2 - s.t1)) };
}

/**
 * Keeps the last `window` probes and estimates the offset from the least-delayed one.
 *
 * @example
 * ```ts
 * import { OffsetEstimator } from '@telekit/core';
 * const est = new OffsetEstimator();
 * // server is 100 ms ahead; 10 ms each way
 * est.add({ t0: 0, t1: 110, t2: 111, t3: 21 });
 * est.estimate()?.offset; // 100
 * ```
 */
export class OffsetEstimator {
  readonly #window: number;
  readonly #samples: { offset: number; rtt: number }[] = [];

  constructor(options: { window?: number } = {}) {
    this.#window = options.window ?? 8;
    if (!Number.isInteger(this.#window) || this.#window < 1) {
      throw new RangeError(`window must be a positive integer [window:${options.window}]`);
    }
  }

  /** Adds a probe. Probes with impossible times (negative delay, non-finite) are ignored and return false. */
  add(sample: OffsetSample): boolean {
    const values = [sample.t0, sample.t1, sample.t2, sample.t3];
    if (!values.every(Number.isFinite) || sample.t3 < sample.t0 || sample.t2 < sample.t1) return false;
    this.#samples.push(offsetOf(sample));
    if (this.#samples.length > this.#window) this.#samples.shift();
    return true;
  }

  /** The estimate, or `undefined` before the first probe. */
  estimate(): OffsetEstimate | undefined {
    let best: { offset: number; rtt: number } | undefined;
    for (const s of this.#samples) if (best === undefined || s.rtt < best.rtt) best = s;
    if (best === undefined) return undefined;
    return { offset: best.offset, rtt: best.rtt, uncertainty: best.rtt / 2, samples: this.#samples.length };
  }

  /** Forgets every probe (after a reconnect the path may have changed). */
  reset(): void {
    this.#samples.length = 0;
  }
}
