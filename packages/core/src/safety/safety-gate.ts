import {
  filter,
  map,
  type Observable,
  type OperatorFunction,
  pipe,
  type SchedulerLike,
  Subject,
  type Subscription,
} from 'rxjs';
import { type Clock, systemClock } from '../clock.js';
import type { Header } from '../schemas/common.js';
import { DEFAULT_TTL_MS } from '../schemas/topic.js';
import { carryValidation } from '../schemas/validate.js';
import type { LeaseChange } from './control-lease.js';
import { checkAge } from './deadline.js';
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

/**
 * Who may drive, as the gate asks it: the core `ControlLease` and every gateway backplane (local or
 * shared through Redis) answer it, so the same gate serves one process and a fleet.
 */
export interface LeaseCheck {
  /** True when `id` holds the lease now. */
  isHolder(id: string): boolean;
  /** The holder's id, for the refusal's message. */
  readonly holder?: { readonly id: string } | null | undefined;
  /** The holder is alive (keeps a lease with an idle expiry from lapsing). */
  touch?(id: string): void;
  /** Lease changes, reported on the gate's `events$`. */
  readonly changes$?: Observable<LeaseChange>;
}

/** The gate's answer about one command: admitted (with its header on the receiver's clock), or why not. */
export type GateVerdict<T> =
  | { readonly ok: true; readonly command: T }
  | {
      readonly ok: false;
      readonly reason: 'not-holder' | 'out-of-order' | 'stale' | 'estop';
      readonly event: SafetyEvent;
    };

/** Options of {@link SafetyGate}. */
export interface SafetyGateOptions<T extends { header: Header }> {
  /**
   * The command that stops the robot, built from the last command (if any) at time `now`; `undefined`
   * when there is nothing to stop (a position target that holds by itself, a discrete action).
   */
  zero: (last: T | undefined, now: number) => T | undefined;
  clock?: Clock;
  /** The e-stop to obey; a new one when absent. */
  estop?: EStopLatch;
  /**
   * The control lease: only its holder's commands pass. Absent: any sender drives (in-process apps
   * with a single operator).
   */
  lease?: LeaseCheck;
  /** Deadman timeout, ms. Default 250; `false` for commands that do not keep anything moving. */
  deadmanMs?: number | false;
  /**
   * The topic's deadline, ms. A command's own `header.ttl` may shorten it, never lengthen it.
   * Default 250.
   */
  ttl?: number;
  /**
   * How far ahead of the receiver's clock (after the offset) a stamp may lie, ms: the clocks'
   * agreement. Default: the smaller of 100 ms and the deadline.
   */
  futureToleranceMs?: number;
  /** Receiver clock minus the sender's clock, ms, per sender. Default: same clock. */
  offset?: (sender: string) => number;
  /** Scheduler for the deadman timer. */
  scheduler?: SchedulerLike;
}

/**
 * The safety chain every command passes on its way to an actuator, in this order:
 *
 * 1. **lease**: only the lease holder's commands pass (`not-holder`);
 * 2. **order**: a command whose sequence number or stamp is not after the last one passed from the
 *    same sender is dropped (`out-of-order`);
 * 3. **deadline**: a command past its deadline — the topic's, or its own `ttl` when shorter — or
 *    stamped ahead of the receiver's clock by more than the tolerance is dropped, never actuated
 *    late (`stale`);
 * 4. **e-stop**: while latched nothing passes (`estop-blocked`), and engaging emits a zero command at once;
 * 5. **deadman**: no fresh command for `deadmanMs` → exactly one zero command (`deadman`).
 *
 * An admitted command leaves with its header on the receiver's clock: `stamp` corrected by the
 * sender's offset and `ttl` set to the effective deadline, so whatever acts on it downstream can
 * check the same deadline again without knowing the sender's clock.
 *
 * `check()` runs steps 1–4 for one command and says why it refused; `apply()` is the whole chain as
 * an operator; `drive()` is steps 4–5 alone, for callers that `check()` each command themselves
 * (a gateway answering every command with its fate).
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
  readonly lease: LeaseCheck | undefined;
  readonly #events = new Subject<SafetyEvent>();
  readonly #options: SafetyGateOptions<T>;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #future: number;
  readonly #last = new Map<string, { seq: number; stamp: number }>();
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
    this.#ttl = options.ttl ?? DEFAULT_TTL_MS;
    this.#future = options.futureToleranceMs ?? Math.min(100, this.#ttl);
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
    const changes$ = this.lease?.changes$;
    if (changes$) {
      this.#subscriptions.push(changes$.subscribe((change) => this.#events.next({ type: 'lease', change })));
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

  /** Forgets a sender's last sequence number and stamp (it is gone; its id will not come back). */
  forget(sender: string): void {
    this.#last.delete(sender);
  }

  /** Steps 1–4 for one command: admitted with its header on the receiver's clock, or why not. */
  check(cmd: T): GateVerdict<T> {
    const { sender, seq, stamp } = cmd.header;
    const refuse = this.#refuse;
    if (this.lease && !this.lease.isHolder(sender)) {
      this.#stats.notHolder++;
      return refuse('not-holder', { type: 'not-holder', sender, seq, holder: this.lease.holder?.id });
    }
    const offset = this.#options.offset?.(sender) ?? 0;
    const local = stamp + offset;
    const last = this.#last.get(sender);
    if (last && (seq <= last.seq || local < last.stamp)) {
      this.#stats.outOfOrder++;
      return refuse('out-of-order', { type: 'out-of-order', sender, seq, last: last.seq });
    }
    const ttl = Math.min(cmd.header.ttl ?? this.#ttl, this.#ttl);
    const verdict = checkAge(local, ttl, this.#clock.now(), this.#future);
    if (!verdict.fresh) {
      this.#stats.stale++;
      return refuse('stale', { type: 'stale', sender, seq, reason: verdict.reason, age: verdict.age });
    }
    if (last) {
      last.seq = seq;
      last.stamp = local;
    } else this.#last.set(sender, { seq, stamp: local });
    if (this.estop.latched) {
      this.#stats.estopBlocked++;
      return refuse('estop', { type: 'estop-blocked', sender, seq });
    }
    this.lease?.touch?.(sender);
    this.#stats.accepted++;
    const command = { ...cmd, header: { ...cmd.header, stamp: local, ttl } };
    // A fresh, non-negative stamp and the shorter of two deadlines keep a valid command valid: the
    // app's transport need not validate it again.
    return { ok: true, command: local >= 0 ? carryValidation(cmd, command) : command };
  }

  /** A refusal, told on `events$`. */
  readonly #refuse = (reason: 'not-holder' | 'out-of-order' | 'stale' | 'estop', event: SafetyEvent) => {
    this.#events.next(event);
    return { ok: false as const, reason, event };
  };

  /**
   * Steps 4–5 for commands already admitted by `check()`: the e-stop's zero on engaging, nothing
   * while latched, and the deadman's zero after silence.
   */
  drive(): OperatorFunction<T, T> {
    const o = this.#options;
    const zero = (last: T | undefined) => o.zero(last, this.#clock.now());
    const stops = (source: Observable<T | undefined>) => source.pipe(filter((c): c is T => c !== undefined));
    const withDeadman: OperatorFunction<T, T | undefined> =
      o.deadmanMs === false
        ? map((c) => c)
        : deadman<T | undefined>({
            timeoutMs: o.deadmanMs ?? 250,
            zero: (last) => zero(last),
            onTrip: (last) => {
              if (!last) return;
              this.#stats.deadmanTrips++;
              this.#events.next({ type: 'deadman', sender: last.header.sender, seq: last.header.seq });
            },
            ...(o.scheduler ? { scheduler: o.scheduler } : {}),
          });
    return pipe(
      withDeadman,
      estopGate<T | undefined>(this.estop, () => zero(undefined)),
      stops,
    );
  }

  /** The whole chain as an operator: commands in, commands safe to actuate out. */
  apply(): OperatorFunction<T, T> {
    return pipe(
      map((cmd: T) => this.check(cmd)),
      filter((v): v is { ok: true; command: T } => v.ok),
      map((v) => v.command),
      this.drive(),
    );
  }

  /** Completes `events$`. Does not close the e-stop or the lease (their owner does). */
  close(): void {
    for (const s of this.#subscriptions) s.unsubscribe();
    this.#events.complete();
  }
}
