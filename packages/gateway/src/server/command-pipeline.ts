import {
  type Clock,
  type Header,
  type Logger,
  type Topic,
  Topics,
  type Transport,
  type Twist,
  zeroTwist,
} from '@telekit/core';
import { checkDeadline, EStopLatch, SafetyGate } from '@telekit/core/safety';
import type { Gamepad, JointCommand } from '@telekit/core/schemas';
import { Subject, type Subscription } from 'rxjs';
import type { WireError } from '../protocol.js';
import type { Backplane } from './backplane.js';
import type { GatewayMetrics } from './metrics.js';
import type { Session } from './session.js';

/** A command's fate at the gate: admitted, or refused with the error its sender gets. */
export type Verdict = { ok: true } | { ok: false; error: WireError };

/** How to stop what a motion topic set moving (undefined: nothing to stop). */
type Zero<T> = (last: T | undefined, now: number) => T | undefined;

/**
 * The header of a stop the gateway sends itself (deadman, lease change): its own sender and
 * sequence, so an actuator reports it apart from the operator's commands.
 */
let stops = 0;
const stopHeader = (now: number): Header => ({ seq: stops++, stamp: now, sender: 'gateway' });

const zeroJoints: Zero<JointCommand> = (last, now) =>
  last && (last.velocity || last.effort)
    ? {
        header: stopHeader(now),
        name: last.name,
        ...(last.velocity ? { velocity: last.velocity.map(() => 0) } : {}),
        ...(last.effort ? { effort: last.effort.map(() => 0) } : {}),
        // Position targets hold where they are.
        ...(last.position ? { position: last.position } : {}),
      }
    : undefined;
const zeroGamepad: Zero<Gamepad> = (last, now) =>
  last
    ? {
        header: stopHeader(now),
        axes: last.axes.map(() => 0),
        buttons: last.buttons.map(() => ({ pressed: false, value: 0 })),
      }
    : undefined;

/** The topics that keep a robot moving, with their zero: these have a deadman. */
const MOTION = new Map<string, Zero<{ header: Header }>>([
  [Topics.twist.name, ((_last: Twist | undefined, now: number) => zeroTwist(now, stopHeader(now))) as never],
  [Topics.joints.name, zeroJoints as never],
  [Topics.gamepad.name, zeroGamepad as never],
]);

/** How fresh a message that clears the e-stop must be, ms: clearing is never done by a stale message. */
const CLEAR_TTL_MS = 1_000;

const fault = (code: string, message: string, topic: string): WireError => ({ code, message, topic });

/** What the pipeline needs from the gateway. */
export interface CommandContext {
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  transport: Transport;
  backplane: Backplane;
  deadmanMs: number;
  /** The session behind a sender id (for its clock offset), if it is still here. */
  session(id: string): Session | undefined;
}

/**
 * The one safety chain every command entering the gateway goes through, whatever door it came in by
 * (socket.io today; rosbridge, Foxglove and DataChannel lanes call the same `submit`):
 *
 * 1. **the e-stop topic** has rules of its own: anyone allowed to publish it may engage, at any age;
 *    clearing takes the engager, the lease holder or an admin, with a fresh, in-order message;
 * 2. **every other control topic** passes a {@link SafetyGate} of its own — lease (asked of the
 *    backplane), order, deadline (the topic's, mapped through the sender's measured clock offset),
 *    e-stop — and the motion topics (twist, joints, gamepad) also its deadman;
 * 3. what is admitted goes to the app's transport (and the other instances) with its header on the
 *    gateway's clock, so whatever acts on it can check the deadline again;
 * 4. the verdict is returned at once: the sender's acknowledgement tells the command's fate.
 *
 * The gates share one e-stop latch, the mirror of the backplane's.
 */
export class CommandPipeline {
  readonly latch: EStopLatch;
  readonly #ctx: CommandContext;
  readonly #gates = new Map<
    string,
    { gate: SafetyGate<{ header: Header }>; input: Subject<{ header: Header }> }
  >();
  readonly #lastMotion = new Map<string, { topic: Topic; last: { header: Header } }>();
  readonly #estopOrder = new Map<string, { seq: number; stamp: number }>();
  readonly #subscriptions: Subscription[] = [];

  constructor(ctx: CommandContext) {
    this.#ctx = ctx;
    this.latch = new EStopLatch({ clock: ctx.clock });
    this.#subscriptions.push(
      ctx.backplane.estop$.subscribe((s) => {
        if (s.latched && this.latch.engage(s.byId ?? s.by ?? 'unknown', s.reason)) ctx.metrics.estops.inc();
        if (!s.latched) this.latch.clear(s.byId ?? s.by ?? 'unknown');
      }),
      ctx.backplane.lease$.subscribe((holder) => {
        // Control changed hands: whatever the previous holder commanded stops now, not at the deadman.
        if (!holder) this.stopMotion();
      }),
    );
  }

  /** Submits one validated command from `from`; says its fate at the gate. */
  submit(from: Session, topic: Topic, msg: { header: Header }): Verdict {
    if (topic.name === Topics.estop.name) return this.#estop(from, msg as never);
    const { gate, input } = this.#gateOf(topic);
    const verdict = gate.check(msg);
    if (!verdict.ok) return { ok: false, error: this.#refusal(verdict.reason, verdict.event, topic.name) };
    input.next(verdict.command);
    return { ok: true };
  }

  /** Sends the zero of every motion topic that moved since the last stop. */
  stopMotion(): void {
    const now = this.#ctx.clock.now();
    for (const { topic, last } of this.#lastMotion.values()) {
      const zero = MOTION.get(topic.name)?.(last, now);
      if (zero) this.#forward(topic, zero);
    }
    this.#lastMotion.clear();
  }

  /** Forgets a departed sender's last sequence numbers. */
  forget(sender: string): void {
    for (const { gate } of this.#gates.values()) gate.forget(sender);
    this.#estopOrder.delete(sender);
  }

  close(): void {
    for (const s of this.#subscriptions) s.unsubscribe();
    for (const { gate, input } of this.#gates.values()) {
      input.complete();
      gate.close();
    }
    this.#gates.clear();
    this.latch.close();
  }

  #gateOf(topic: Topic) {
    let entry = this.#gates.get(topic.name);
    if (entry) return entry;
    const ctx = this.#ctx;
    const zero = MOTION.get(topic.name);
    const gate = new SafetyGate<{ header: Header }>({
      clock: ctx.clock,
      estop: this.latch,
      lease: ctx.backplane,
      ttl: topic.ttl,
      deadmanMs: zero ? ctx.deadmanMs : false,
      offset: (sender) => ctx.session(sender)?.clock.offset ?? 0,
      zero: zero ?? (() => undefined),
    });
    const input = new Subject<{ header: Header }>();
    this.#subscriptions.push(
      gate.events$.subscribe((e) => {
        if (e.type !== 'deadman') return;
        ctx.metrics.deadmanTrips.inc();
        ctx.log.info('deadman trip: zero command sent', { topic: topic.name, client: e.sender });
      }),
      input.pipe(gate.drive()).subscribe((cmd) => {
        if (zero) this.#lastMotion.set(topic.name, { topic, last: cmd });
        this.#forward(topic, cmd);
      }),
    );
    entry = { gate, input };
    this.#gates.set(topic.name, entry);
    return entry;
  }

  #refusal(reason: string, event: { type: string } & Record<string, unknown>, topic: string): WireError {
    const holder = this.#ctx.backplane.holder;
    switch (reason) {
      case 'not-holder':
        return fault(
          'E_NOT_HOLDER',
          `command refused: ${holder ? `${holder.name} holds control` : 'request control first'}`,
          topic,
        );
      case 'out-of-order':
        return fault('E_OUT_OF_ORDER', `command dropped: seq ${event.seq} is not after ${event.last}`, topic);
      case 'stale':
        return event.reason === 'future'
          ? fault(
              'E_STALE',
              `command dropped: stamped ${Math.round(-Number(event.age))} ms in the future`,
              topic,
            )
          : fault(
              'E_STALE',
              `command dropped: ${Math.round(Number(event.age))} ms old, past its deadline`,
              topic,
            );
      default:
        return fault('E_ESTOP', 'command refused: the e-stop is engaged', topic);
    }
  }

  #estop(from: Session, msg: { header: Header; engage: boolean; reason?: string }): Verdict {
    const ctx = this.#ctx;
    const topic = Topics.estop.name;
    const estop = Topics.estop as Topic;
    const who = { id: from.id, name: from.name };
    const offset = from.clock.offset ?? 0;
    const stamp = msg.header.stamp + offset;
    const normalized = { ...msg, header: { ...msg.header, stamp } };
    if (msg.engage) {
      // The same engage by two lanes (socket.io and the DataChannel): the second is a no-op.
      const seen = this.#estopOrder.get(from.id);
      if (seen?.seq === msg.header.seq && ctx.backplane.estop.latched) return { ok: true };
      // Stopping is never refused for being late or out of order.
      void ctx.backplane.engage(who, msg.reason);
      ctx.log.warn('e-stop engaged', { by: from.name, client: from.id, reason: msg.reason ?? '' });
      this.#estopOrder.set(from.id, { seq: msg.header.seq, stamp });
      this.#forward(estop, normalized);
      return { ok: true };
    }
    const state = ctx.backplane.estop;
    const engager = state.byId ? ctx.session(state.byId) : undefined;
    const may =
      from.principal.role === 'admin' ||
      ctx.backplane.isHolder(from.id) ||
      state.byId === from.id ||
      (engager !== undefined && engager.principal.id === from.principal.id);
    if (state.latched && !may)
      return {
        ok: false,
        error: fault(
          'E_FORBIDDEN',
          `only ${state.by ?? 'the engager'}, the lease holder or an admin may clear the e-stop`,
          topic,
        ),
      };
    const last = this.#estopOrder.get(from.id);
    if (last && (msg.header.seq <= last.seq || stamp < last.stamp))
      return {
        ok: false,
        error: fault(
          'E_OUT_OF_ORDER',
          `clear dropped: seq ${msg.header.seq} is not after ${last.seq}`,
          topic,
        ),
      };
    const ttl = Math.min(msg.header.ttl ?? CLEAR_TTL_MS, CLEAR_TTL_MS);
    const fresh = checkDeadline({ ...msg.header, stamp, ttl }, ctx.clock.now(), {
      ttl,
      futureTolerance: 100,
    });
    if (!fresh.fresh)
      return {
        ok: false,
        error: fault(
          'E_STALE',
          `clear dropped: ${Math.round(Math.abs(fresh.age))} ms off the gateway's clock`,
          topic,
        ),
      };
    this.#estopOrder.set(from.id, { seq: msg.header.seq, stamp });
    void ctx.backplane.clear(who, msg.reason);
    ctx.log.warn('e-stop cleared', { by: from.name, client: from.id, reason: msg.reason ?? '' });
    this.#forward(estop, normalized);
    return { ok: true };
  }

  /** An admitted command: onto the app's transport, and to the other instances. */
  #forward(topic: Topic, message: unknown): void {
    try {
      this.#ctx.transport.publish(topic, message);
    } catch (error) {
      this.#ctx.log.error('app transport refused a forwarded message', {
        topic: topic.name,
        error: String(error),
      });
    }
    this.#ctx.backplane.relay({ lane: 'control', topic: topic.name, message });
  }
}
