/**
 * One event through the checks every door shares — the payload limit, the sender's rate limits,
 * then its entry in the handler table — whether it came by socket.io or the DataChannel lane.
 */
import type { Ack, ClientEvent } from '../protocol.js';
import { type Caller, fault, type Handler, handlers, tellFate } from './handlers.js';

const internal = (): Ack => ({
  ok: false,
  error: fault('E_INTERNAL', 'the gateway could not handle this message'),
});

/**
 * The answer to `event` with `args` from `c`, received at `now` (the gateway's clock): refused when
 * it was `oversized` (its byte count, not decoded) or over the sender's rate; otherwise the table's
 * answer (a promise for one answered later). `admitted` is told when it reaches its handler. A
 * handler that throws or rejects is logged and answered `E_INTERNAL`.
 */
export function dispatch(
  c: Caller,
  event: ClientEvent,
  args: readonly unknown[],
  now: number,
  oversized?: number,
  admitted?: () => void,
): unknown {
  const { ctx, session } = c;
  const handler: Handler = handlers[event];
  if (oversized !== undefined) {
    ctx.metrics.refusals.inc({ reason: 'payload' });
    const error = fault(
      'E_PAYLOAD_TOO_LARGE',
      `message of ${oversized} bytes exceeds the limit of ${ctx.maxPayloadBytes} bytes`,
    );
    if (event === 'pub') tellFate(c, undefined, undefined, error);
    return { ok: false, error } satisfies Ack;
  }
  const limit = session.limits.take(handler.bucket, now);
  if (limit) {
    ctx.metrics.refusals.inc({ reason: 'rate' });
    ctx.metrics.drops.inc({ lane: c.lane, reason: 'rate' });
    const error = fault(
      'E_RATE_LIMITED',
      `too many messages: the limit is ${limit.rate}/s (burst ${limit.burst})`,
    );
    if (event === 'pub') {
      session.refused++;
      tellFate(c, args[0], args[1], error);
    }
    return handler.limited?.(c) ?? ({ ok: false, error } satisfies Ack);
  }
  admitted?.();
  const failed = (error: unknown) => {
    ctx.log.error('handler failed', { event, client: session.id, error: String(error) });
    return internal();
  };
  try {
    const answer = handler.answer(c, args, now);
    return answer instanceof Promise ? answer.catch(failed) : answer;
  } catch (error) {
    return failed(error);
  }
}
