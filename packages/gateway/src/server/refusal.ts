import type { GatewayContext } from './context.js';
import type { Session } from './session.js';

/**
 * A refusal goes on the principal's record, whatever door the client came in by (socket.io, a
 * rosbridge or Foxglove endpoint). Returns whether to answer it: past the quiet threshold refusals
 * go unanswered, and past the cut-off the principal is penalised and this session closed (taking the
 * principal's other sessions with it).
 */
export function recordRefusal(
  ctx: GatewayContext,
  session: Session,
  penalise: (s: Session) => void,
): boolean {
  const conduct = session.conduct.refused(ctx.clock.now());
  if (!conduct.disconnect) return conduct.answer;
  ctx.log.warn('client and its principal disconnected for too many refusals', {
    client: session.id,
    address: session.address,
  });
  ctx.metrics.refusals.inc({ reason: 'abuse' });
  penalise(session);
  session.close();
  return false;
}
