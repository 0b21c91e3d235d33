/**
 * Watches this process's event loop: how late a 100 ms timer fires, smoothed. When the loop runs
 * late by more than `thresholdMs` the gateway is overloaded, and it sheds telemetry (sends it in
 * fewer, larger batches) so that commands keep their latency. Also tells a supervisor whether a
 * late answer was the child's fault or this process's.
 */
export class LoadMonitor {
  readonly #thresholdMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #expected = performance.now() + 100;
  #lag = 0;

  constructor(thresholdMs = 40) {
    this.#thresholdMs = thresholdMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.#expected);
      this.#expected = now + 100;
      // Rise at once, fall slowly: one quiet tick does not end an overload.
      this.#lag = late > this.#lag ? late : this.#lag * 0.8 + late * 0.2;
    }, 100);
    this.#timer.unref();
  }

  /** How late the loop runs, ms (smoothed). */
  get lagMs(): number {
    return this.#lag;
  }

  get overloaded(): boolean {
    return this.#lag > this.#thresholdMs;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
