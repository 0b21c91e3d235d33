import type { Socket } from 'socket.io';
import { type ClientLane, GATEWAY_PROTOCOL, type Welcome, type WireError } from '../protocol.js';
import { PayloadTooLarge } from '../wire-parser.js';
import type { GatewayContext } from './context.js';
import { dispatch } from './dispatch.js';
import { type Caller, CLIENT_EVENTS, fault, isRefusal } from './handlers.js';
import { Outbox } from './outbox.js';
import { recordRefusal } from './refusal.js';
import type { Session } from './session.js';

/** What a connection tells the gateway about its session's conduct. */
export interface ConnectionHooks {
  /** The session earned too many refusals: cut it off for a while. */
  penalise(session: Session): void;
}

/**
 * Attaches an authenticated socket to its session on `lane`: its outbox, the handler table for the
 * lane's events (with the per-message size limit, the rate limits and the refusal record), the
 * welcome, and the clean-up when it goes.
 */
export function attachConnection(ctx: GatewayContext, lane: ClientLane, hooks: ConnectionHooks) {
  return (socket: Socket): void => {
    const { session, acks } = socket.data as { session: Session; acks?: boolean };
    // socket.io reports a socket's errors as an `error` event: unheard, Node would throw it.
    socket.on('error', (error: Error) =>
      ctx.log.debug('socket error', { client: session.id, error: error.message }),
    );
    const live = session.sockets[lane];
    if (session.closed || (live && live !== socket && live.connected)) {
      // Another connection of this session took the lane between the handshake and now.
      socket.emit('fault', fault('E_SESSION_IN_USE', `the session's ${lane} lane is connected already`));
      socket.disconnect(true);
      return;
    }
    session.sockets[lane] = socket;
    const outbox = new Outbox(socket, ctx.clock, {
      sent: (l, n) => ctx.metrics.messageSeries.out[l].inc(n),
      stale: () => ctx.metrics.drops.inc({ lane: 'control', reason: 'stale' }),
      dropped: () => ctx.metrics.drops.inc({ lane: 'telemetry', reason: 'lagging' }),
      ...(lane === 'telemetry' ? { pace: () => (ctx.load.overloaded ? 50 : 0) } : {}),
      // A client that acknowledges telemetry batches gets flow control (see `Outbox`).
      ...(lane === 'telemetry' && acks ? { acknowledged: true } : {}),
    });
    session.outboxes[lane] = outbox;
    ctx.metrics.clients.inc({ lane, role: session.principal.role });
    const caller: Caller = { ctx, session, lane };

    /** Answers the client: through its ack, or for a refusal without one as a `fault`. */
    const reply = (answer: unknown, ack: ((a: unknown) => void) | undefined) => {
      const refused = isRefusal(answer);
      if (refused && !recordRefusal(ctx, session, hooks.penalise)) return;
      if (!session.writable(socket, ctx.clock.now())) return;
      if (ack) ack(answer);
      else if (refused && (answer as { error?: WireError }).error)
        socket.emit('fault', (answer as { error: WireError }).error);
    };

    for (const event of CLIENT_EVENTS[lane]) {
      socket.on(event, (...args: unknown[]) => {
        const ack = typeof args.at(-1) === 'function' ? (args.pop() as (a: unknown) => void) : undefined;
        const oversized = args[0] instanceof PayloadTooLarge ? args[0].bytes : undefined;
        const answer = dispatch(caller, event, args, ctx.clock.now(), oversized);
        if (answer instanceof Promise) answer.then((a: unknown) => reply(a, ack));
        // A command without an ack is answered only when refused (as a fault).
        else if (event !== 'pub' || ack || isRefusal(answer)) reply(answer, ack);
      });
    }

    socket.on('disconnect', (reason) => {
      ctx.metrics.clients.dec({ lane, role: session.principal.role });
      outbox.shutdown();
      for (const t of outbox.topics) ctx.fanOut.unwant(t);
      if (session.sockets[lane] === socket) {
        delete session.sockets[lane];
        delete session.outboxes[lane];
      }
      if (lane === 'control') {
        ctx.dataLanes?.close(session, 'its control connection closed');
        void ctx.backplane.drop(session.id);
      }
      if (!session.live) {
        ctx.sessions.delete(session);
        ctx.pipeline.forget(session.id);
        ctx.media?.release(session.id);
      }
      ctx.log.debug('client left', { client: session.id, lane, reason });
    });

    const welcome: Welcome = {
      protocol: GATEWAY_PROTOCOL,
      clientId: session.id,
      resume: session.resume,
      role: session.principal.role,
      name: session.name,
      lease: ctx.backplane.holder,
      estop: ctx.backplane.estop,
    };
    socket.emit('welcome', welcome);
    ctx.log.debug('client joined', { client: session.id, lane, role: session.principal.role });
  };
}
