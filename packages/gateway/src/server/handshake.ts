import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Socket } from 'socket.io';
import { AuthPayload, type ClientLane } from '../protocol.js';
import { AuthError } from './auth.js';
import type { GatewayContext } from './context.js';
import { Session } from './session.js';

/** A handshake refusal as socket.io sends it: `CONNECT_ERROR` with `data.code` and `data.reason`. */
function refusal(code: string, reason: string, message: string): Error {
  const err = new Error(message) as Error & { data?: unknown };
  err.data = { code, reason };
  return err;
}

/** The address a connection comes from (the proxy's, behind one). */
export const addressOf = (req: IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

/** Where browsers may come from: an explicit list of origins, or else the hosts the gateway answers to. */
export interface OriginRules {
  /** Browser origins allowed (`https://ops.example.com`, or `*`). Absent: same origin only. */
  origins?: readonly string[] | undefined;
  /**
   * With no `origins`, the `Host` names a same-origin page may use: default IP addresses, `localhost`
   * and this machine's host name — so a page whose domain was rebound to this address (DNS
   * rebinding) is not "same origin".
   */
  hosts?: readonly string[] | undefined;
  /** Whether engine.io's HTTP long-polling is on (with it off, no request may name a session id). */
  polling: boolean;
  /** Without authentication everyone is one principal: limits and penalties then go by address too. */
  anonymous?: boolean;
}

/**
 * Who may open a connection at all, before any token is read: a browser's `Origin` must be on the
 * allow-list (a page from elsewhere cannot drive with its visitor's cookies or network position), and
 * one address may hold only so many connections, and fewer unauthenticated ones. socket.io calls
 * `allowRequest` for every engine.io handshake; the HTTP server asks `admitUpgrade` before any
 * WebSocket upgrade reaches socket.io or a plugin's endpoint.
 */
export class Doorman {
  readonly #ctx: GatewayContext;
  readonly #rules: OriginRules;
  readonly #open = new Map<string, { all: number; unauthenticated: number }>();
  readonly #penalties = new Map<string, number>();

  constructor(ctx: GatewayContext, rules: OriginRules) {
    this.#ctx = ctx;
    this.#rules = rules;
  }

  /** Why an upgrade request may not proceed, or undefined. */
  admitUpgrade = (req: IncomingMessage): string | undefined => {
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#originAllowed(origin, req.headers.host)) return 'origin not allowed';
    // Without polling every connection starts with its own WebSocket: one that names an engine.io
    // session id would join (and take over) somebody else's connection.
    if (!this.#rules.polling && /[?&]sid=/.test(req.url ?? '')) return 'no session ids on this gateway';
    return undefined;
  };

  /** socket.io's `allowRequest`. */
  allowRequest = (req: IncomingMessage, answer: (err: string | null | undefined, ok: boolean) => void) => {
    const refused = this.admitUpgrade(req);
    if (refused) {
      this.#ctx.metrics.refusals.inc({ reason: 'origin' });
      return answer(refused, false);
    }
    const crowded = this.crowded(addressOf(req));
    if (crowded) {
      this.#ctx.metrics.refusals.inc({ reason: 'connections' });
      return answer(crowded, false);
    }
    answer(null, true);
  };

  /** Why a new connection from `address` may not open (too many from there), or undefined. */
  crowded(address: string): string | undefined {
    const counts = this.#open.get(address);
    const l = this.#ctx.limits;
    if (
      counts &&
      (counts.all >= l.connectionsPerAddress || counts.unauthenticated >= l.unauthenticatedPerAddress)
    )
      return 'too many connections from this address';
    return undefined;
  }

  /** An engine.io connection opened (it has not authenticated yet); returns what to call when it closes. */
  opened(address: string): { authenticated(): void; closed(): void } {
    const counts = this.#open.get(address) ?? { all: 0, unauthenticated: 0 };
    counts.all++;
    counts.unauthenticated++;
    this.#open.set(address, counts);
    let authenticated = false;
    return {
      authenticated: () => {
        if (authenticated) return;
        authenticated = true;
        counts.unauthenticated--;
      },
      closed: () => {
        counts.all--;
        if (!authenticated) counts.unauthenticated--;
        if (counts.all <= 0) this.#open.delete(address);
      },
    };
  }

  /**
   * Keeps a session's secret and its principal (from any address: a token that abuses is kept out,
   * wherever it comes from) out for a while.
   */
  penalise(session: Session, now: number): void {
    // A session that earned a cut-off takes its principal's other sessions with it, at every door.
    for (const other of [...this.#ctx.sessions.values()])
      if (other !== session && other.accountable === session.accountable) other.close();
    const until = now + this.#ctx.limits.penaltyMs;
    this.#penalties.set(session.resume, until);
    this.#penalties.set(`principal|${session.accountable}`, until);
    if (this.#penalties.size > 10_000) {
      for (const [k, t] of this.#penalties) if (t <= now) this.#penalties.delete(k);
    }
  }

  /** Whether a principal (its accountable key) is kept out for abuse at `now`. */
  keptOut(accountable: string, now: number): boolean {
    return this.#penalised(`principal|${accountable}`, now);
  }

  #penalised(key: string, now: number): boolean {
    const until = this.#penalties.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#penalties.delete(key);
    return false;
  }

  #originAllowed(origin: string, host: string | undefined): boolean {
    const { origins, hosts } = this.#rules;
    if (origins) return origins.includes(origin) || origins.includes('*');
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.host !== host) return false;
    const name = url.hostname.replace(/^\[|\]$/g, '');
    return hosts ? hosts.includes(name) : isIP(name) !== 0 || name === 'localhost' || name === hostname();
  }

  /**
   * The namespace middleware: reads the auth payload, verifies the token, and joins the connection
   * to its session — the one its `resume` secret names (same principal, same role, that lane not
   * already live), or a new one.
   */
  authenticate = (lane: ClientLane) => async (socket: Socket, next: (err?: Error) => void) => {
    const ctx = this.#ctx;
    try {
      const auth = AuthPayload.safeParse(socket.handshake.auth ?? {});
      if (!auth.success) {
        const issue = auth.error.issues[0];
        throw new AuthError(
          'invalid',
          `invalid auth payload: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'malformed'}`,
        );
      }
      const principal = await ctx.verify(auth.data.token);
      const address = addressOf(socket.request);
      const now = ctx.clock.now();
      const accountable = this.#rules.anonymous ? `${principal.id}@${address}` : principal.id;
      if (this.#penalised(`principal|${accountable}`, now))
        return next(refusal('E_ABUSE', 'penalty', 'kept out for a while after too many refusals'));
      let session = auth.data.resume ? ctx.sessions.bySecret(auth.data.resume) : undefined;
      if (session) {
        if (this.#penalised(session.resume, now))
          return next(refusal('E_ABUSE', 'penalty', 'kept out for a while after too many refusals'));
        if (session.principal.id !== principal.id || session.principal.role !== principal.role)
          throw new AuthError('forbidden', 'this session belongs to another principal or role');
        if (session.sockets[lane]?.connected)
          return next(
            refusal('E_SESSION_IN_USE', 'in-use', `the session's ${lane} lane is connected already`),
          );
      } else {
        if (ctx.sessions.count(principal.id) >= ctx.limits.sessionsPerPrincipal)
          return next(
            refusal(
              'E_AUTH',
              'forbidden',
              `too many sessions for this principal: at most ${ctx.limits.sessionsPerPrincipal}`,
            ),
          );
        session = new Session(principal, address, ctx.limits, ctx.limiter, now, this.#rules.anonymous);
        ctx.sessions.add(session);
      }
      socket.data = { session, acks: auth.data.acks === true };
      next();
    } catch (error) {
      const reason = error instanceof AuthError ? error.reason : 'invalid';
      const message = error instanceof Error ? error.message : String(error);
      ctx.metrics.refusals.inc({ reason: 'auth' });
      next(refusal('E_AUTH', reason, message));
    }
  };
}
