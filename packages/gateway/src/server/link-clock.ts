import type { Percentiles, TimeProbe } from '../protocol.js';
import { Recent } from './recent.js';

/** The longest round trip a probe may report, ms: anything longer is not a clock measurement. */
const MAX_RTT_MS = 10_000;
/** How many recent exchanges the offset is chosen from (the least delayed wins). */
const WINDOW = 8;

/**
 * One client's clock as the gateway knows it, from the client's time probes and nothing it claims.
 *
 * Each probe is an NTP exchange: the client sends `t0` (its clock), the gateway answers with its
 * receive and send times `t1`, `t2`, and the client reports its receive time `t3` in its next probe.
 * The delays both ways are non-negative, so the offset (gateway clock − client clock) lies in
 * `[t2 − t3, t1 − t0]`, an interval as wide as the round trip. The estimate is the middle of the
 * narrowest interval among the last few exchanges; its error is at most half that round trip.
 * A report that cannot be true (a `t0` the gateway never answered, `t3` before `t0`, a round trip
 * below zero or above ten seconds) is refused and changes nothing.
 */
export class LinkClock {
  readonly #answered = new Map<number, { t1: number; t2: number }>();
  readonly #samples: { offset: number; rtt: number }[] = [];
  readonly #rtts = new Recent(64);

  /** Server clock minus client clock, ms; null before the first complete exchange. */
  get offset(): number | null {
    let best: { offset: number; rtt: number } | undefined;
    for (const s of this.#samples) if (!best || s.rtt < best.rtt) best = s;
    return best?.offset ?? null;
  }

  /** Round trips of recent exchanges. */
  rtt(): Percentiles | null {
    return this.#rtts.percentiles();
  }

  /** The latest round trip, ms (for metrics). */
  #lastRtt: number | null = null;
  get lastRtt(): number | null {
    return this.#lastRtt;
  }

  /**
   * Takes one probe received at `t1` and answered at `t2`. Returns an error naming the field when
   * the probe's report of the previous exchange cannot be true.
   */
  probe(p: TimeProbe, t1: number, t2: number): { field: string; message: string } | undefined {
    let error: { field: string; message: string } | undefined;
    if (p.last) error = this.#complete(p.last.t0, p.last.t3);
    this.#answered.set(p.t0, { t1, t2 });
    if (this.#answered.size > WINDOW) this.#answered.delete(this.#answered.keys().next().value!);
    return error;
  }

  #complete(t0: number, t3: number): { field: string; message: string } | undefined {
    const answer = this.#answered.get(t0);
    if (!answer) return { field: 'last.t0', message: 'no probe with this t0 was answered on this link' };
    this.#answered.delete(t0);
    if (t3 < t0) return { field: 'last.t3', message: 't3 is before t0' };
    const rtt = t3 - t0 - (answer.t2 - answer.t1);
    if (!(rtt >= 0 && rtt <= MAX_RTT_MS))
      return {
        field: 'last.t3',
        message: `round trip of ${Math.round(rtt)} ms is outside [0, ${MAX_RTT_MS}]`,
      };
    this.#samples.push({ offset: (answer.t1 - t0 + (answer.t2 - t3)) / 2, rtt });
    if (this.#samples.length > WINDOW) this.#samples.shift();
    this.#rtts.add(rtt);
    this.#lastRtt = rtt;
    return undefined;
  }
}
