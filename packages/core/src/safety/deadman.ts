import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

/** Options of the {@link deadman} operator. */
export interface DeadmanOptions<T> {
  /** How long without a fresh command before the zero command, ms. */
  timeoutMs: number;
  /** Builds the zero command from the last command seen. */
  zero: (last: T) => T;
  /** Called once per trip, with the last command seen. */
  onTrip?: (last: T) => void;
  /** Scheduler for the timer (tests pass a virtual-time scheduler). */
  scheduler?: SchedulerLike;
}

/**
 * A deadman switch as an operator: passes commands through, and when no fresh command has come for
 * `timeoutMs`, emits exactly one zero command (built from the last one). When the source completes
 * or fails while commands are live (an operator disconnects), the zero command is emitted at once.
 *
 * @example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { deadman } from '@telekit/core';
 * const speed$ = new Subject<number>();
 * speed$.pipe(deadman({ timeoutMs: 250, zero: () => 0 })).subscribe(console.log);
 * speed$.next(1); // logs 1, then 0 after 250 ms without another value
 * ```
 */
export function deadman<T>(options: DeadmanOptions<T>): OperatorFunction<T, T> {
  const { timeoutMs, zero, onTrip } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  if (!(timeoutMs > 0)) throw new RangeError(`deadman timeout must be positive [timeoutMs:${timeoutMs}]`);
  return (source) =>
    new Observable<T>((subscriber) => {
      let last: T | undefined;
      let lastAt = 0;
      let timer: Subscription | undefined;
      // One timer per silence, not one per command: when it fires early (fresh commands came in
      // meanwhile) it re-arms for the time that is left.
      const check = () => {
        timer = undefined;
        const idle = scheduler.now() - lastAt;
        if (idle < timeoutMs) {
          timer = scheduler.schedule(check, timeoutMs - idle);
          return;
        }
        const l = last as T;
        subscriber.next(zero(l));
        onTrip?.(l);
      };
      const tripNow = () => {
        if (!timer) return;
        timer.unsubscribe();
        timer = undefined;
        const l = last as T;
        subscriber.next(zero(l));
        onTrip?.(l);
      };
      const sub = source.subscribe({
        next(value) {
          last = value;
          lastAt = scheduler.now();
          subscriber.next(value);
          timer ??= scheduler.schedule(check, timeoutMs);
        },
        error(err) {
          tripNow();
          subscriber.error(err);
        },
        complete() {
          tripNow();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        sub.unsubscribe();
      };
    });
}
