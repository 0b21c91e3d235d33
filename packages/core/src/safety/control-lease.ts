import { type Observable, Subject } from 'rxjs';
import { type Clock, systemClock } from '../clock.js';

/** What a client may do. Viewers watch; operators drive when they hold the lease; admins may take it. */
export type Role = 'viewer' | 'operator' | 'admin';

/** A client asking for control. */
export interface LeaseClient {
  readonly id: string;
  readonly role: Role;
  /** Who it is, for people (shown to others instead of the id). */
  readonly name?: string;
}

/** The current holder. */
export interface LeaseHolder extends LeaseClient {
  /** When the lease was granted, ms. */
  readonly since: number;
}

/** The answer to {@link ControlLease.acquire}. */
export type LeaseDecision =
  | { readonly granted: true; readonly holder: LeaseHolder; readonly previous?: LeaseHolder }
  | { readonly granted: false; readonly reason: 'forbidden' | 'held'; readonly holder?: LeaseHolder };

/** Why the lease changed hands. */
export type LeaseChangeReason = 'acquired' | 'released' | 'taken-over' | 'disconnected' | 'expired';

/** A change of holder, as `changes$` reports it. */
export interface LeaseChange {
  readonly reason: LeaseChangeReason;
  readonly holder: LeaseHolder | undefined;
  readonly previous: LeaseHolder | undefined;
}

/** Options of {@link ControlLease}. */
export interface ControlLeaseOptions {
  clock?: Clock;
  /**
   * Expire the lease when its holder has not been heard from (`touch`) for this long, ms; checked by
   * `sweep()`. Default: never (the lease ends when the holder releases it or disconnects).
   */
  idleTimeoutMs?: number;
}

/**
 * The control lease: at most one client drives at a time, and everyone else watches.
 *
 * - An operator or admin acquires a free lease, or re-acquires its own.
 * - A held lease is refused to others with `held` and who holds it; viewers are refused with
 *   `forbidden`.
 * - An admin may take over (`{ takeover: true }`); the previous holder is reported.
 * - It ends when the holder releases it, disconnects (`drop`), or goes idle past `idleTimeoutMs`.
 *
 * @example
 * ```ts
 * import { ControlLease } from '@telekit/core';
 * const lease = new ControlLease();
 * lease.acquire({ id: 'alice', role: 'operator' }).granted; // true
 * lease.acquire({ id: 'bob', role: 'operator' }).granted; // false: held by alice
 * lease.acquire({ id: 'root', role: 'admin' }, { takeover: true }).granted; // true
 * ```
 */
export class ControlLease {
  readonly #clock: Clock;
  readonly #idleTimeoutMs: number | undefined;
  readonly #changes = new Subject<LeaseChange>();
  #holder: LeaseHolder | undefined;
  #lastSeen = 0;

  constructor(options: ControlLeaseOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#idleTimeoutMs = options.idleTimeoutMs;
  }

  /** Every change of holder. */
  get changes$(): Observable<LeaseChange> {
    return this.#changes.asObservable();
  }

  get holder(): LeaseHolder | undefined {
    return this.#holder;
  }

  isHolder(id: string): boolean {
    return this.#holder?.id === id;
  }

  acquire(client: LeaseClient, options: { takeover?: boolean } = {}): LeaseDecision {
    if (client.role === 'viewer') {
      return this.#holder
        ? { granted: false, reason: 'forbidden', holder: this.#holder }
        : { granted: false, reason: 'forbidden' };
    }
    const current = this.#holder;
    if (current?.id === client.id) {
      this.#lastSeen = this.#clock.now();
      return { granted: true, holder: current };
    }
    if (current && !(options.takeover && client.role === 'admin')) {
      return { granted: false, reason: 'held', holder: current };
    }
    const holder: LeaseHolder = {
      id: client.id,
      role: client.role,
      since: this.#clock.now(),
      ...(client.name === undefined ? {} : { name: client.name }),
    };
    this.#holder = holder;
    this.#lastSeen = holder.since;
    this.#changes.next({ reason: current ? 'taken-over' : 'acquired', holder, previous: current });
    return current ? { granted: true, holder, previous: current } : { granted: true, holder };
  }

  /** Gives the lease up. False when `id` does not hold it. */
  release(id: string): boolean {
    return this.#end(id, 'released');
  }

  /** The client went away (disconnected): ends its lease if it held one. */
  drop(id: string): boolean {
    return this.#end(id, 'disconnected');
  }

  /** Records that the holder is alive (any command from it counts). */
  touch(id: string): void {
    if (this.#holder?.id === id) this.#lastSeen = this.#clock.now();
  }

  /** Ends an idle lease (see `idleTimeoutMs`). Returns true when it expired one. */
  sweep(): boolean {
    if (!this.#holder || this.#idleTimeoutMs === undefined) return false;
    if (this.#clock.now() - this.#lastSeen <= this.#idleTimeoutMs) return false;
    return this.#end(this.#holder.id, 'expired');
  }

  /** Completes `changes$`. */
  close(): void {
    this.#changes.complete();
  }

  #end(id: string, reason: LeaseChangeReason): boolean {
    const current = this.#holder;
    if (current?.id !== id) return false;
    this.#holder = undefined;
    this.#changes.next({ reason, holder: undefined, previous: current });
    return true;
  }
}
