import type { Header } from '../schemas/common.js';

/** Why a command was refused by {@link checkDeadline}. */
export type DeadlineVerdict =
  | { readonly fresh: true; readonly age: number }
  | { readonly fresh: false; readonly reason: 'expired' | 'future'; readonly age: number };

/** Options of {@link checkDeadline}. */
export interface DeadlineOptions {
  /** Deadline when the header carries no `ttl`, ms. */
  ttl: number;
  /** Receiver clock minus sender clock, ms (from the link's offset estimate). Default 0: same clock. */
  offset?: number;
  /**
   * How far in the future (after offset correction) a stamp may lie before the command is refused,
   * ms. A stamp from the future means the clocks are not synchronised, and such a command would
   * otherwise never expire. Default: the command's deadline.
   */
  futureTolerance?: number;
}

/**
 * Decides whether a command is still fresh at `now` (receiver clock): its age is `now − (stamp +
 * offset)`, and it is stale past `header.ttl` (or `options.ttl`). Stale commands are dropped, never
 * actuated late.
 *
 * @example
 * ```ts
 * import { checkDeadline } from '@telekit/core';
 * checkDeadline({ seq: 1, stamp: 1000, sender: 'op' }, 1300, { ttl: 250 });
 * // { fresh: false, reason: 'expired', age: 300 }
 * ```
 */
export function checkDeadline(header: Header, now: number, options: DeadlineOptions): DeadlineVerdict {
  const ttl = header.ttl ?? options.ttl;
  return checkAge(header.stamp + (options.offset ?? 0), ttl, now, options.futureTolerance ?? ttl);
}

/**
 * {@link checkDeadline} for a stamp already on the receiver's clock and a deadline already chosen:
 * expired when older than `ttl`, refused when more than `futureTolerance` ahead of `now`.
 */
export function checkAge(stamp: number, ttl: number, now: number, futureTolerance = ttl): DeadlineVerdict {
  const age = now - stamp;
  if (age > ttl) return { fresh: false, reason: 'expired', age };
  if (-age > futureTolerance) return { fresh: false, reason: 'future', age };
  return { fresh: true, age };
}
