/**
 * Time. Telekit stamps messages in milliseconds since the Unix epoch, read from a clock that never
 * goes backwards (`performance.timeOrigin + performance.now()`), so a wall-clock step (NTP, a user
 * changing the time) cannot make a fresh command look stale or a stale one fresh.
 *
 * @module
 */

/** A source of monotonic time in ms since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** The process's monotonic clock, on the epoch timeline. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

/** A clock that moves only when told to, for tests and simulations. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (never backwards). */
  advance(ms: number): void;
  /** Sets the time; refuses to go backwards. */
  set(ms: number): void;
}

/**
 * Creates a {@link ManualClock} starting at `start` ms.
 *
 * @example
 * ```ts
 * import { manualClock } from '@telekit/core';
 * const clock = manualClock(1000);
 * clock.advance(250);
 * clock.now(); // 1250
 * ```
 */
export function manualClock(start = 0): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`clock can only advance by a non-negative amount [ms:${ms}]`);
      t += ms;
    },
    set(ms) {
      if (!(ms >= t)) throw new RangeError(`clock cannot go backwards [from:${t}][to:${ms}]`);
      t = ms;
    },
  };
}
