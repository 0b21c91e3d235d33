import type { FeedStats } from './transport.js';

/** How a mailbox behaves when a message arrives before the last one was taken. */
export type MailboxPolicy =
  | { readonly kind: 'latest' }
  | { readonly kind: 'keep-last'; readonly depth: number };

/**
 * A subscriber's mailbox: the lane's delivery rule in one place, shared by every transport.
 *
 * - `latest` (control): holds one message; a newer one replaces it (counted as `superseded`).
 * - `keep-last` (telemetry): a ring of `depth` messages; when full, the oldest is dropped
 *   (counted as `dropped`).
 *
 * Push and take are O(1).
 */
export class Mailbox<T> {
  readonly policy: MailboxPolicy;
  readonly #ring: (T | undefined)[];
  #head = 0;
  #size = 0;
  readonly #stats: FeedStats = {
    received: 0,
    delivered: 0,
    dropped: 0,
    superseded: 0,
    stale: 0,
    pending: 0,
    refused: 0,
    duplicates: 0,
  };

  constructor(policy: MailboxPolicy) {
    const depth = policy.kind === 'latest' ? 1 : policy.depth;
    if (!Number.isInteger(depth) || depth < 1)
      throw new RangeError(`mailbox depth must be a positive integer [depth:${depth}]`);
    this.policy = policy;
    this.#ring = new Array(depth);
  }

  get size(): number {
    return this.#size;
  }

  push(message: T): void {
    this.#stats.received++;
    const capacity = this.#ring.length;
    if (this.#size === capacity) {
      // Full: the oldest goes.
      if (this.policy.kind === 'latest') this.#stats.superseded++;
      else this.#stats.dropped++;
      this.#ring[this.#head] = message;
      this.#head = (this.#head + 1) % capacity;
      return;
    }
    this.#ring[(this.#head + this.#size) % capacity] = message;
    this.#size++;
  }

  /** Takes the oldest message, or `undefined` when empty. */
  take(): T | undefined {
    if (this.#size === 0) return undefined;
    const message = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    return message;
  }

  /** Records the fate of a taken message. */
  delivered(): void {
    this.#stats.delivered++;
  }

  expired(): void {
    this.#stats.stale++;
  }

  /** Counts a message on this topic refused at the boundary (it never reached the mailbox). */
  refused(): void {
    this.#stats.refused++;
  }

  /** Counts a copy of a message already received (it never reached the mailbox). */
  duplicated(): void {
    this.#stats.duplicates++;
  }

  stats(): FeedStats {
    return { ...this.#stats, pending: this.#size };
  }
}
