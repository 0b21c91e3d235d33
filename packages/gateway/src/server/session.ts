import { randomBytes } from 'node:crypto';
import type { Actuation } from '@telekit/core/schemas';
import type { Socket } from 'socket.io';
import type { ClientLane, LinkHealth } from '../protocol.js';
import type { Principal } from './auth.js';
import { type Accounted, CommandStages } from './command-stages.js';
import type { Conduct, GatewayLimits, RateLimiter } from './limits.js';
import { LinkClock } from './link-clock.js';
import type { Outbox } from './outbox.js';

/** Bytes a socket has been handed but not yet written to its peer. */
export function unsentBytes(socket: Socket): number {
  const conn = socket.conn as unknown as {
    writeBuffer: unknown[];
    transport: { socket?: { bufferedAmount?: number } };
  };
  // Packets waiting in engine.io count at a nominal size; the WebSocket's own buffer in bytes.
  return conn.writeBuffer.length * 256 + (conn.transport.socket?.bufferedAmount ?? 0);
}

/**
 * One client of the gateway: a principal on up to two connections (one per lane), known to others
 * by a public id and to itself by a secret it was given in its first welcome. The secret, never a
 * name the client chose, is what joins its second lane and its reconnects to the session.
 *
 * A session owns its outboxes, its clock estimate, its rate limits and its record of conduct;
 * `close()` disconnects what is left of it.
 */
export class Session {
  /** Public: the `sender` of its commands, shown to others. Grants nothing. */
  readonly id: string;
  /** Secret: presented to join the session's other lane and to reconnect. */
  readonly resume: string;
  readonly principal: Principal;
  /** Who it is, for people. */
  readonly name: string;
  readonly address: string;
  readonly sockets: Partial<Record<ClientLane, Socket>> = {};
  readonly outboxes: Partial<Record<ClientLane, Outbox>> = {};
  readonly clock = new LinkClock();
  /** Its latency budget: each command timed stage by stage, from the input to its actuation report. */
  readonly stages = new CommandStages();
  /** What became of its commands where they act, since it connected. */
  readonly fates: LinkHealth['fates'] = {};
  /** Commands refused at the gate. */
  refused = 0;
  readonly conduct: Conduct;
  readonly limits: ReturnType<RateLimiter['forSession']>;
  /**
   * Whose limits and conduct it shares: its principal's id, or — without authentication, where
   * everyone is the same principal — the principal at its address.
   */
  readonly accountable: string;
  readonly #unsentCap: number;
  readonly #onClose: (() => void)[] = [];
  #overfullSince: number | undefined;
  #closed = false;

  constructor(
    principal: Principal,
    address: string,
    limits: GatewayLimits,
    limiter: RateLimiter,
    now: number,
    anonymous = false,
  ) {
    this.principal = principal;
    this.name = principal.name ?? principal.id;
    this.address = address;
    this.id = `${principal.role}-${randomBytes(6).toString('base64url')}`;
    this.resume = randomBytes(24).toString('base64url');
    this.accountable = anonymous ? `${principal.id}@${address}` : principal.id;
    this.limits = limiter.forSession(this.accountable, address, now);
    this.conduct = this.limits.conduct;
    this.#unsentCap = limits.unsentBytes;
  }

  /** True while one of its lanes is connected. */
  get live(): boolean {
    return this.sockets.control !== undefined || this.sockets.telemetry !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Records what became of one of its commands where it acts (the report reached the gateway at `now`). */
  actuated(a: Pick<Actuation, 'command' | 'actuatedAt' | 'receivedAt' | 'fate'>, now: number): Accounted {
    this.fates[a.fate] = (this.fates[a.fate] ?? 0) + 1;
    return this.stages.actuated(a, now);
  }

  /**
   * May the gateway write a reply or a fault to `socket` now? Not while the client leaves more than a
   * quarter of its unsent-bytes allowance unread; a client over the whole allowance for ten seconds
   * is disconnected.
   */
  writable(socket: Socket, now: number): boolean {
    const unsent = unsentBytes(socket);
    if (unsent <= this.#unsentCap / 4) {
      this.#overfullSince = undefined;
      return true;
    }
    if (unsent > this.#unsentCap) {
      this.#overfullSince ??= now;
      if (now - this.#overfullSince > 10_000) socket.disconnect(true);
    }
    return false;
  }

  /** Calls `fn` when the session closes (a client at another door hangs up its own connection). */
  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  /** Disconnects the session's lanes and releases its limits. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of ['control', 'telemetry'] as const) {
      this.outboxes[lane]?.shutdown();
      this.sockets[lane]?.disconnect(true);
    }
    this.limits.release();
    for (const fn of this.#onClose.splice(0)) fn();
  }
}

/** The live sessions, by public id and by secret, with a count per principal. */
export class Sessions {
  readonly #byId = new Map<string, Session>();
  readonly #bySecret = new Map<string, Session>();
  readonly #perPrincipal = new Map<string, number>();

  add(session: Session): void {
    this.#byId.set(session.id, session);
    this.#bySecret.set(session.resume, session);
    this.#perPrincipal.set(session.principal.id, this.count(session.principal.id) + 1);
  }

  /** Sessions a principal holds. */
  count(principal: string): number {
    return this.#perPrincipal.get(principal) ?? 0;
  }

  get(id: string): Session | undefined {
    return this.#byId.get(id);
  }

  bySecret(secret: string): Session | undefined {
    return this.#bySecret.get(secret);
  }

  delete(session: Session): void {
    if (this.#byId.get(session.id) !== session) return;
    this.#byId.delete(session.id);
    this.#bySecret.delete(session.resume);
    const n = this.count(session.principal.id) - 1;
    if (n > 0) this.#perPrincipal.set(session.principal.id, n);
    else this.#perPrincipal.delete(session.principal.id);
    session.close();
  }

  values(): IterableIterator<Session> {
    return this.#byId.values();
  }

  get size(): number {
    return this.#byId.size;
  }

  closeAll(): void {
    for (const s of [...this.#byId.values()]) this.delete(s);
  }
}
