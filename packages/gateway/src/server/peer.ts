import { TelekitError, type Topic } from '@telekit/core';
import type { Role } from '@telekit/core/safety';
import type { Observable } from 'rxjs';
import {
  type Ack,
  type EStopInfo,
  type LeaseAnswer,
  type LeaseInfo,
  laneOf,
  type WireError,
} from '../protocol.js';
import { AuthError, allowed } from './auth.js';
import type { GatewayContext } from './context.js';
import { type Caller, fault, handlers, isRefusal, tellFate } from './handlers.js';
import type { Doorman } from './handshake.js';
import { recordRefusal } from './refusal.js';
import { Session } from './session.js';

/**
 * A client that came in by another door than socket.io (a rosbridge or Foxglove endpoint), once
 * authenticated: a session of the gateway like any other, so its commands pass the same handler
 * (allow-list, validation, the one safety chain, the latency budget) and count against the same
 * rates and record of conduct.
 */
export interface GatewayPeer {
  /** Its public session id: the `sender` of its commands, the lease holder's id. */
  readonly id: string;
  readonly role: Role;
  /** Who it is, for people. */
  readonly name: string;
  /**
   * Publishes `message` on `topic` exactly as a socket.io `pub` would: counted against the commands
   * rate, checked against the role's allow-list and the topic's schema, commands through the safety
   * chain (lease, order, deadline, deadman, e-stop). Refusals count in the principal's conduct.
   */
  publish(topic: string, message: unknown): PeerAnswer;
  /** The app's messages on `topic`, if the role may subscribe to it (a request, rate-limited). */
  subscribe(topic: string): PeerAnswer & { feed?: Observable<unknown>; topic?: Topic };
  /** Asks for (or releases) the control lease. */
  lease(action: 'acquire' | 'release' | 'takeover'): Promise<LeaseAnswer>;
  /** Who holds the lease, now and as it changes: an endpoint tells its client when control moves. */
  readonly lease$: Observable<LeaseInfo | null>;
  /** The e-stop, now and as it changes (who latched it, why). */
  readonly estop$: Observable<EStopInfo>;
  /** Takes one request from the requests rate: a refusal when over it. */
  request(): PeerAnswer;
  /**
   * Counts a refusal the endpoint itself made (a malformed frame) in the principal's conduct: says
   * whether to answer it. Past the limit the peer is closed and its principal kept out for a while.
   */
  refused(): { answer: boolean };
  /** Whether the gateway would write a reply now, given what the peer left unread (bytes). */
  writable(unsentBytes: number): boolean;
  /** Leaves: releases the lease (whatever it commanded stops at once) and the session. Safe twice. */
  close(): void;
}

/** A refusal says what and why; `answer` false when the principal has earned silence. */
export type PeerAnswer = { ok: true } | { ok: false; error: WireError; answer: boolean };

/** A connection at another door, not yet authenticated: it counts against its address's limits. */
export interface GatewayDoor {
  /** How long it may take to authenticate, ms (the gateway's `authTimeoutMs`). */
  readonly authTimeoutMs: number;
  /** Largest message a client may send, bytes (the gateway's `maxPayloadBytes`). */
  readonly maxPayloadBytes: number;
  /**
   * Verifies `token` and opens the peer's session, or throws an `AuthError` saying why not (also
   * while its principal is kept out for abuse, or holds too many sessions). `onClose` is called when
   * the gateway ends the session (abuse, `dropConnections`, closing).
   */
  enter(token: string | undefined, onClose: () => void): Promise<GatewayPeer>;
  /** The connection closed: releases its place (and its peer). Safe twice. */
  close(): void;
}

/** What the doors need from the gateway. */
export interface PeerHooks {
  doorman: Doorman;
  penalise(session: Session): void;
  anonymous: boolean;
}

/** Opens a door for a connection from `address`, or throws when the address holds too many. */
export function openDoor(ctx: GatewayContext, hooks: PeerHooks, address: string): GatewayDoor {
  const refused = hooks.doorman.crowded(address);
  if (refused) {
    ctx.metrics.refusals.inc({ reason: 'connections' });
    throw new TelekitError('E_TOO_MANY_CONNECTIONS', refused, { operation: 'open' });
  }
  const place = hooks.doorman.opened(address);
  let peer: { close(): void } | undefined;
  let closed = false;
  return {
    authTimeoutMs: ctx.limits.authTimeoutMs,
    maxPayloadBytes: ctx.maxPayloadBytes,
    async enter(token, onClose) {
      if (closed) throw new AuthError('forbidden', 'the connection closed');
      if (peer) throw new AuthError('forbidden', 'authenticated already');
      let principal: Awaited<ReturnType<GatewayContext['verify']>>;
      try {
        principal = await ctx.verify(token);
      } catch (error) {
        ctx.metrics.refusals.inc({ reason: 'auth' });
        throw error;
      }
      const now = ctx.clock.now();
      const accountable = hooks.anonymous ? `${principal.id}@${address}` : principal.id;
      if (hooks.doorman.keptOut(accountable, now)) {
        ctx.metrics.refusals.inc({ reason: 'auth' });
        throw new AuthError('forbidden', 'kept out for a while after too many refusals');
      }
      if (ctx.sessions.count(principal.id) >= ctx.limits.sessionsPerPrincipal)
        throw new AuthError(
          'forbidden',
          `too many sessions for this principal: at most ${ctx.limits.sessionsPerPrincipal}`,
        );
      if (closed) throw new AuthError('forbidden', 'the connection closed');
      const session = new Session(principal, address, ctx.limits, ctx.limiter, now, hooks.anonymous);
      ctx.sessions.add(session);
      place.authenticated();
      const made = makePeer(ctx, hooks, session, onClose);
      peer = made;
      return made;
    },
    close() {
      if (closed) return;
      closed = true;
      peer?.close();
      place.closed();
    },
  };
}

function makePeer(ctx: GatewayContext, hooks: PeerHooks, session: Session, onClose: () => void): GatewayPeer {
  let closed = false;
  ctx.metrics.clients.inc({ lane: 'control', role: session.principal.role });
  const leave = () => {
    if (closed) return;
    closed = true;
    ctx.metrics.clients.dec({ lane: 'control', role: session.principal.role });
    void ctx.backplane.drop(session.id);
    ctx.sessions.delete(session);
    ctx.pipeline.forget(session.id);
    ctx.media?.release(session.id);
  };
  // The gateway ends the session (abuse, drills, closing): the endpoint hears it and hangs up.
  session.onClose(() => {
    leave();
    onClose();
  });

  /** A refusal in the principal's record; past the limit the principal is cut off as a whole. */
  const conduct = (): { answer: boolean } => ({ answer: recordRefusal(ctx, session, hooks.penalise) });
  const answerOf = (a: unknown): PeerAnswer => {
    if (!isRefusal(a)) return { ok: true };
    const error = (a as { error?: WireError }).error ?? fault('E_INTERNAL', 'refused');
    return { ok: false, error, ...conduct() };
  };
  const take = (bucket: 'commands' | 'requests'): PeerAnswer | undefined => {
    const limit = session.limits.take(bucket, ctx.clock.now());
    if (!limit) return undefined;
    ctx.metrics.refusals.inc({ reason: 'rate' });
    if (bucket === 'commands') session.refused++;
    return answerOf({
      ok: false,
      error: fault(
        'E_RATE_LIMITED',
        `too many messages: the limit is ${limit.rate}/s (burst ${limit.burst})`,
      ),
    } satisfies Ack);
  };

  return {
    id: session.id,
    role: session.principal.role,
    name: session.name,
    lease$: ctx.backplane.lease$,
    estop$: ctx.backplane.estop$,
    publish(name, message) {
      if (closed) return { ok: false, error: fault('E_SESSION_CLOSED', 'the session closed'), answer: false };
      const topic = ctx.topics.get(name);
      const caller: Caller = { ctx, session, lane: topic ? laneOf(topic) : 'control', via: 'door' };
      const limited = take('commands');
      if (limited) {
        if (!limited.ok) tellFate(caller, name, message, limited.error);
        return limited;
      }
      try {
        return answerOf(handlers.pub.answer(caller, [name, message], ctx.clock.now()));
      } catch (error) {
        ctx.log.error('handler failed', { event: 'pub', client: session.id, error: String(error) });
        return answerOf({
          ok: false,
          error: fault('E_INTERNAL', 'the gateway could not handle this message'),
        });
      }
    },
    subscribe(name) {
      if (closed) return { ok: false, error: fault('E_SESSION_CLOSED', 'the session closed'), answer: false };
      const topic = ctx.topics.get(name);
      const shown = name.slice(0, 128);
      if (!topic)
        return answerOf({
          ok: false,
          error: fault('E_UNKNOWN_TOPIC', `unknown topic ${shown}`, { topic: shown }),
        });
      const role = session.principal.role;
      if (!allowed(ctx.acl()[role].subscribe, topic.name)) {
        ctx.metrics.refusals.inc({ reason: 'acl' });
        return answerOf({
          ok: false,
          error: fault('E_FORBIDDEN', `role ${role} may not subscribe ${topic.name}`, { topic: topic.name }),
        });
      }
      return { ok: true, topic, feed: ctx.transport.subscribe(topic, { depth: topic.depth }) };
    },
    async lease(action) {
      if (closed) return { granted: false, reason: 'invalid', holder: ctx.backplane.holder };
      if (action === 'release') {
        await ctx.backplane.release(session.id);
        return { granted: false, reason: 'held', holder: ctx.backplane.holder };
      }
      const d = await ctx.backplane.acquire(
        { id: session.id, name: session.name, role: session.principal.role },
        action === 'takeover',
      );
      if (!d.granted) ctx.metrics.refusals.inc({ reason: 'lease' });
      return d;
    },
    request() {
      if (closed) return { ok: false, error: fault('E_SESSION_CLOSED', 'the session closed'), answer: false };
      return take('requests') ?? { ok: true };
    },
    refused: () => (closed ? { answer: false } : conduct()),
    writable: (unsent) => unsent <= ctx.limits.unsentBytes / 4,
    close() {
      if (closed) return;
      leave();
      session.close();
    },
  };
}
