import { BehaviorSubject, Observable, type OperatorFunction } from 'rxjs';
import { type Clock, systemClock } from '../clock.js';

/** The e-stop's state. */
export interface EStopState {
  readonly latched: boolean;
  /** Who engaged it (while latched) or cleared it last. */
  readonly by?: string;
  readonly reason?: string;
  /** When it last changed, ms. */
  readonly since: number;
}

/**
 * The emergency stop: once engaged it stays engaged (latches) until someone clears it, however many
 * commands arrive meanwhile. Engaging twice keeps the first engagement's record.
 *
 * @example
 * ```ts
 * import { EStopLatch } from '@telekit/core';
 * const estop = new EStopLatch();
 * estop.engage('operator-1', 'person in the cell');
 * estop.latched; // true
 * estop.clear('operator-1');
 * estop.latched; // false
 * ```
 */
export class EStopLatch {
  readonly #clock: Clock;
  readonly #state: BehaviorSubject<EStopState>;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#state = new BehaviorSubject<EStopState>({ latched: false, since: this.#clock.now() });
  }

  /** The current state and every change after it. */
  get state$(): Observable<EStopState> {
    return this.#state.asObservable();
  }

  get state(): EStopState {
    return this.#state.value;
  }

  get latched(): boolean {
    return this.#state.value.latched;
  }

  /** Latches the stop. Returns false when it was already latched (the first record is kept). */
  engage(by: string, reason?: string): boolean {
    if (this.latched) return false;
    this.#state.next({
      latched: true,
      by,
      since: this.#clock.now(),
      ...(reason === undefined ? {} : { reason }),
    });
    return true;
  }

  /** Clears the stop. Returns false when it was not latched. */
  clear(by: string, reason?: string): boolean {
    if (!this.latched) return false;
    this.#state.next({
      latched: false,
      by,
      since: this.#clock.now(),
      ...(reason === undefined ? {} : { reason }),
    });
    return true;
  }

  /** Completes `state$`; the latch keeps answering `latched`. */
  close(): void {
    this.#state.complete();
  }
}

/**
 * Gates commands on the e-stop: while latched every command is suppressed, and engaging emits one
 * zero command at once (also on subscription if already latched). After a clear, only fresh
 * commands pass: nothing held back is replayed.
 */
export function estopGate<T>(latch: EStopLatch, zero: () => T): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let wasLatched = false;
      const stateSub = latch.state$.subscribe((s) => {
        if (s.latched && !wasLatched) subscriber.next(zero());
        wasLatched = s.latched;
      });
      const sub = source.subscribe({
        next: (v) => {
          if (!latch.latched) subscriber.next(v);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      return () => {
        stateSub.unsubscribe();
        sub.unsubscribe();
      };
    });
}
