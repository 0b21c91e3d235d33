import {
  filter,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  Subject,
  type Subscription,
} from 'rxjs';
import { type Clock, systemClock } from '../clock.js';
import type { Header } from '../schemas/common.js';
import { DEFAULT_TTL_MS } from '../schemas/topic.js';
import type { ControlLease, LeaseChange } from './control-lease.js';
import { checkDeadline } from './deadline.js';
import { deadman } from './deadman.js';
import { EStopLatch, estopGate } from './estop-latch.js';

/** Something the gate refused or did, for logs, metrics and the operator's HUD. */
export type SafetyEvent =
  | {
      readonly type: 'stale';
      readonly sender: string;
      readonly seq: number;
      readonly reason: 'expired' | 'future';
      readonly age: number;
    }
  | { readonly type: 'out-of-order'; readonly sender: string; readonly seq: number; readonly last: number }
  | {
      readonly type: 'not-holder';
      readonly sender: string;
      readonly seq: number;
      readonly holder: string | undefined;
    }
  | { readonly type: 'estop-blocked'; readonly sender: string; readonly seq: number }
  | { readonly type: 'deadman'; readonly sender: string; readonly seq: number }
  | {
      readonly type: 'estop';
      readonly engaged: boolean;
      readonly by: string | undefined;
      readonly reason: string | undefined;
    }
  | { readonly type: 'lease'; readonly change: LeaseChange };

/** Counters of what the gate did. */
export interface SafetyGateStats {
  accepted: number;
  stale: number;
  outOfOrder: number;
  notHolder: number;
  estopBlocked: number;
  deadmanTrips: number;
}

/** Options of {@link SafetyGate}. */
export interface SafetyGateOptions<T extends { header: Header }> {
  /** The command that stops the robot, built from the last command (if any) at time `now`. */
  zero: (last: T | undefined, now: number) => T;
  clock?: Clock;
  /** The e-stop to obey; a new one when absent. */
  estop?: EStopLatch;
  /**
   * The control lease: only its holder's commands pass. Absent: any sender drives (in-process apps
   * with a single operator).
   */
  lease?: ControlLease;
  /** Deadman timeout, ms. Default 250. */
  deadmanMs?: number;
  /** Default command deadline when a header has no `ttl`, ms. Default 250. */
  ttl?: number;
  /** Receiver clock minus the sender's clock, ms, per sender. Default: same clock. */
  offset?: (sender: string) => number;
  /** Scheduler for the deadman timer. */
  scheduler?: SchedulerLike;
}

/**
 * The safety chain every command passes on its way to an actuator, in this order:
 *
 * 1. **lease**: only the lease holder's commands pass (`not-holder`);
 * 2. **order**: a command older than one already passed from the same sender is dropped (`out-of-order`);
 * 3. **deadline**: a command past its deadline is dropped, never actuated late (`stale`);
 * 4. **deadman**: no fresh command for `deadmanMs` → exactly one zero command (`deadman`);
 * 5. **e-stop**: while latched nothing passes, and engaging emits a zero command at once (`estop-blocked`).
 *
 * @example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { SafetyGate, Topics, zeroTwist, type Twist } from '@telekit/core';
 * const gate = new SafetyGate<Twist>({ zero: (last, now) => zeroTwist(now, last?.header) });
 * const commands$ = new Subject<Twist>();
 * commands$.pipe(gate.apply()).subscribe((cmd) => robot.drive(cmd));
 * gate.events$.subscribe((e) => console.log(e.type));
 * ```
 */
export class SafetyGate<T extends { header: Header }> {
  readonly estop: EStopLatch;
  readonly lease: ControlLease | undefined;
  readonly #events = new Subject<SafetyEvent>();
  readonly #options: SafetyGateOptions<T>;
  readonly #clock: Clock;
  readonly #lastSeq = new Map<string, { seq: number; stamp: number }>();
  readonly #stats: SafetyGateStats = {
    accepted: 0,
    stale: 0,
    outOfOrder: 0,
    notHolder: 0,
    estopBlocked: 0,
    deadmanTrips: 0,
  };
  readonly #subscriptions: Subscription[] = [];

  constructor(options: SafetyGateOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.estop = options.estop ?? new EStopLatch({ clock: this.#clock });
    this.lease = options.lease;
    let first = true;
    this.#subscriptions.push(
      this.estop.state$.subscribe((s) => {
        if (first && !s.latched) {
          first = false;
          return;
        }
        first = false;
        this.#events.next({ type: 'estop', engaged: s.latched, by: s.by, reason: s.reason });
      }),
    );
    if (this.lease) {
      this.#subscriptions.push(
        this.lease.changes$.subscribe((change) => this.#events.next({ type: 'lease', change })),
      );
    }
  }

  /** What the gate refused or did, as it happens. */
  get events$(): Observable<SafetyEvent> {
    return this.#events.asObservable();
  }

  /** Counters since the gate was made. */
  stats(): Readonly<SafetyGateStats> {
    return { ...this.#stats };
  }

  /** The chain as an operator: commands in, commands safe to actuate out. */
  apply(): OperatorFunction<T, T> {
    const o = this.#options;
    const ttl = o.ttl ?? DEFAULT_TTL_MS;
    return (source) =>
      source.pipe(
        filter((cmd) => this.#admit(cmd, ttl)),
        deadman<T>({
          timeoutMs: o.deadmanMs ?? 250,
          zero: (last) => o.zero(last, this.#clock.now()),
          onTrip: (last) => {
            this.#stats.deadmanTrips++;
            this.#events.next({ type: 'deadman', sender: last.header.sender, seq: last.header.seq });
          },
          ...(o.scheduler ? { scheduler: o.scheduler } : {}),
        }),
        estopGate(this.estop, () => o.zero(undefined, this.#clock.now())),
      );
  }

  /** Completes `events$`. Does not close the e-stop or the lease (their owner does). */
  close(): void {
    for (const s of this.#subscriptions) s.unsubscribe();
    this.#events.complete();
  }

  #admit(cmd: T, ttl: number): boolean {
    const { sender, seq, stamp } = cmd.header;
    if (this.lease && !this.lease.isHolder(sender)) {
      this.#stats.notHolder++;
      this.#events.next({ type: 'not-holder', sender, seq, holder: this.lease.holder?.id });
      return false;
    }
    const last = this.#lastSeq.get(sender);
    if (last && seq <= last.seq && stamp <= last.stamp) {
      this.#stats.outOfOrder++;
      this.#events.next({ type: 'out-of-order', sender, seq, last: last.seq });
      return false;
    }
    const verdict = checkDeadline(cmd.header, this.#clock.now(), {
      ttl,
      offset: this.#options.offset?.(sender) ?? 0,
    });
    if (!verdict.fresh) {
      this.#stats.stale++;
      this.#events.next({ type: 'stale', sender, seq, reason: verdict.reason, age: verdict.age });
      return false;
    }
    this.#lastSeq.set(sender, { seq, stamp });
    if (this.estop.latched) {
      this.#stats.estopBlocked++;
      this.#events.next({ type: 'estop-blocked', sender, seq });
      return false;
    }
    this.lease?.touch(sender);
    this.#stats.accepted++;
    return true;
  }
}
