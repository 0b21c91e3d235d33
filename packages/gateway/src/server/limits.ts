import { TokenBucket } from './token-bucket.js';

/** A rate: `rate` a second, `burst` at once. */
export interface Rate {
  rate: number;
  burst: number;
}

/**
 * What one client may cost the gateway. Every limit holds per session, per principal (all sessions
 * of one user or robot) and per source address, so that opening more sessions or more tokens from
 * one place buys nothing.
 */
export interface GatewayLimits {
  /** Commands (`pub`) per session. Default 100/s, burst 100. */
  commands: Rate;
  /** Other requests (`sub`, `lease`, `time`, `req`…) per session. Default 50/s, burst 100. */
  requests: Rate;
  /**
   * How many times a session's rates a principal and an address may use together. Default 2 and 16
   * (a classroom behind one NAT is one address).
   */
  principalFactor: number;
  addressFactor: number;
  /** Sessions one principal may hold at once. Default 32. */
  sessionsPerPrincipal: number;
  /** Connections (authenticated or not) from one address (an office behind one NAT is one address). Default 512. */
  connectionsPerAddress: number;
  /** Connections from one address that have not authenticated yet. Default 16. */
  unauthenticatedPerAddress: number;
  /**
   * TCP connections from one address that have not sent their first request's headers yet (an HTTP
   * request or a WebSocket upgrade, on any path): one more is destroyed as it is accepted, and
   * counted as a refusal (`connections`). Each of them is cut after 10 s anyway (the header
   * timeout); this bounds how many one address holds meanwhile. Behind a reverse proxy every
   * connection comes from its address: raise it with the other per-address limits. Default 32.
   */
  preHeaderPerAddress: number;
  /** Time to authenticate on a namespace after the connection opens, ms. Default 5 000. */
  authTimeoutMs: number;
  /**
   * Bytes a client may leave unread in the gateway's buffers: past `unsentBytes / 4` replies and
   * faults are no longer written (commands and telemetry have their own keep-latest mailboxes);
   * past `unsentBytes` for 10 s the client is disconnected. Default 1 MB.
   */
  unsentBytes: number;
  /**
   * Refusals a principal may earn at one address, all its sessions there together: past `quietAfter`
   * in one second its refusals are no longer answered; past `disconnectAfter` in ten seconds every
   * session of the principal is disconnected and the principal kept out for `penaltyMs`, wherever it
   * comes from. Defaults 20, 500, 5 000.
   */
  quietAfter: number;
  disconnectAfter: number;
  penaltyMs: number;
}

/** The defaults of {@link GatewayLimits}. */
export const defaultLimits: GatewayLimits = {
  commands: { rate: 100, burst: 100 },
  requests: { rate: 50, burst: 100 },
  principalFactor: 2,
  addressFactor: 16,
  sessionsPerPrincipal: 32,
  connectionsPerAddress: 512,
  unauthenticatedPerAddress: 16,
  preHeaderPerAddress: 32,
  authTimeoutMs: 5_000,
  unsentBytes: 1_000_000,
  quietAfter: 20,
  disconnectAfter: 500,
  penaltyMs: 5_000,
};

type Kind = 'commands' | 'requests';

/**
 * Token buckets per session, principal and address, and one record of conduct per principal at an
 * address (opening more sessions there buys no more answered refusals); idle ones are forgotten.
 */
export class RateLimiter {
  readonly #limits: GatewayLimits;
  readonly #shared = new Map<string, { bucket: TokenBucket; users: number }>();
  readonly #conduct = new Map<string, { conduct: Conduct; users: number }>();

  constructor(limits: GatewayLimits) {
    this.#limits = limits;
  }

  /** Buckets for one session; `release()` when the session ends. */
  forSession(principal: string, address: string, now: number) {
    const l = this.#limits;
    const own = {
      commands: new TokenBucket(l.commands.rate, l.commands.burst, now),
      requests: new TokenBucket(l.requests.rate, l.requests.burst, now),
    };
    const keys = (['commands', 'requests'] as const).flatMap((kind) => [
      { kind, key: `${kind}|p|${principal}`, factor: l.principalFactor },
      { kind, key: `${kind}|a|${address}`, factor: l.addressFactor },
    ]);
    const shared = keys.map(({ kind, key, factor }) => {
      let entry = this.#shared.get(key);
      if (!entry) {
        const r = l[kind];
        entry = { bucket: new TokenBucket(r.rate * factor, r.burst * factor, now), users: 0 };
        this.#shared.set(key, entry);
      }
      entry.users++;
      return { kind, key, bucket: entry.bucket };
    });
    const conductKey = `${principal}|${address}`;
    let conduct = this.#conduct.get(conductKey);
    if (!conduct) {
      conduct = { conduct: new Conduct(l), users: 0 };
      this.#conduct.set(conductKey, conduct);
    }
    conduct.users++;
    const record = conduct;
    return {
      /** The refusals of this principal at this address, all its sessions there together. */
      conduct: record.conduct,
      /** Takes one token of `kind` from the session's, its principal's and its address's buckets. */
      take: (kind: Kind, at: number): TokenBucket | undefined => {
        if (!own[kind].take(at)) return own[kind];
        for (const s of shared) if (s.kind === kind && !s.bucket.take(at)) return s.bucket;
        return undefined;
      },
      release: () => {
        for (const s of shared) {
          const entry = this.#shared.get(s.key);
          if (entry && --entry.users <= 0) this.#shared.delete(s.key);
        }
        if (--record.users <= 0) this.#conduct.delete(conductKey);
      },
    };
  }
}

/** A session's record of refusals: when to stop answering them, and when to cut it off. */
export class Conduct {
  readonly #limits: GatewayLimits;
  #second = 0;
  #inSecond = 0;
  #window = 0;
  #inWindow = 0;

  constructor(limits: GatewayLimits) {
    this.#limits = limits;
  }

  /** Counts a refusal at `now`; says whether to answer it and whether to disconnect. */
  refused(now: number): { answer: boolean; disconnect: boolean } {
    if (now - this.#second >= 1_000) {
      this.#second = now;
      this.#inSecond = 0;
    }
    if (now - this.#window >= 10_000) {
      this.#window = now;
      this.#inWindow = 0;
    }
    this.#inSecond++;
    this.#inWindow++;
    return {
      answer: this.#inSecond <= this.#limits.quietAfter,
      disconnect: this.#inWindow > this.#limits.disconnectAfter,
    };
  }
}
