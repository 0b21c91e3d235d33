/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay, ms. Default 100. */
  initialMs?: number;
  /** The longest delay, ms. Default 5 000. */
  maxMs?: number;
  /** How much each delay grows over the one before. Default 2. */
  factor?: number;
  /**
   * A run at least this long (see {@link Backoff.ran}) counts as a success: the next delay is the
   * first again. Default 5 000 ms.
   */
  stableMs?: number;
}

/**
 * The restart schedule of a supervised child process (the encoder, the simulator's sidecar): the
 * delay grows while the child keeps dying at once, and starts over after a run that lasted or an
 * attempt that worked. One schedule for every supervisor, so they back off alike.
 *
 * @example
 * ```ts
 * import { Backoff } from '@telekit/core/node';
 * const backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
 * backoff.next(); // 250
 * backoff.next(); // 500
 * backoff.ran(60_000); // it ran for a minute before it died: start over
 * backoff.next(); // 250
 * ```
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #stable: number;
  #next: number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 100;
    this.#max = Math.max(this.#initial, options.maxMs ?? 5_000);
    this.#factor = Math.max(1, options.factor ?? 2);
    this.#stable = options.stableMs ?? 5_000;
    this.#next = this.#initial;
  }

  /** The delay before the next attempt, ms; the one after grows by the factor, up to the maximum. */
  next(): number {
    const delay = this.#next;
    this.#next = Math.min(this.#max, delay * this.#factor);
    this.#attempts++;
    return delay;
  }

  /** The child ran this long before it stopped: a stable run starts the schedule over. */
  ran(ms: number): void {
    if (ms >= this.#stable) this.reset();
  }

  /** An attempt worked: the next delay is the first again. */
  reset(): void {
    this.#next = this.#initial;
    this.#attempts = 0;
  }

  /** Attempts since the schedule last started over. */
  get attempts(): number {
    return this.#attempts;
  }
}
