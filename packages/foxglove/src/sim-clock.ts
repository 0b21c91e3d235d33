/**
 * The simulator's time between its reports: `/telemetry/sim_state` says where simulated time is a
 * few times a second; in between, a stamp is the last report plus the wall time since, at the
 * reported real-time factor. Stamps never go back (a report a little behind the estimate holds the
 * clock until it catches up), except when the simulator restarts (its time goes back to zero).
 */
export class SimClock {
  #simMs = 0;
  #wallAt = 0;
  #factor = 1;
  #last = 0;
  #started = false;

  /** A report: simulated time (s), its real-time factor, and the wall clock (ms) when it came. */
  report(simSeconds: number, realtimeFactor: number, wallMs: number): void {
    const simMs = simSeconds * 1000;
    if (this.#started && simMs < this.#simMs) this.#last = 0; // a restart: time starts again
    this.#started = true;
    this.#simMs = simMs;
    this.#wallAt = wallMs;
    this.#factor = Number.isFinite(realtimeFactor) && realtimeFactor >= 0 ? realtimeFactor : 1;
  }

  /** Simulated time (ms) at wall time `wallMs`; 0 before the first report. */
  at(wallMs: number): number {
    if (!this.#started) return 0;
    const estimate = this.#simMs + Math.max(0, wallMs - this.#wallAt) * this.#factor;
    this.#last = Math.max(this.#last, estimate);
    return this.#last;
  }
}
