import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import type { AppHealthReport } from '@telekit/core/host';
import sirv from 'sirv';
import { type AccessList, allowed, type Principal, type Verifier } from './auth.js';
import type { GatewayMetrics } from './metrics.js';
import { PreHeaderCap } from './pre-header-cap.js';

/**
 * An HTTP route: answers and returns true, or returns false to let the next one try. A route added
 * with a {@link RouteAccess} gets the principal the gateway let in; any other gets `undefined`.
 */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  principal?: Principal,
) => boolean | Promise<boolean>;

/**
 * Who may use a route, checked by the gateway before the route's handler runs, so a plugin's route
 * never authenticates by itself. The request's token is read from `Authorization: Bearer …` or, for
 * players that cannot set headers (a `<video>` on Safari), from `?token=`; the gateway's verifier
 * checks it (401 with the reason when it is missing, malformed or expired), then the role's allow-list
 * (403 when the role may not `subscribe` or `publish` the named topic). `{}` lets in any principal
 * the verifier accepts. With `auth: 'none'` every request is the anonymous operator, as on the
 * socket.io lanes.
 *
 * @example
 * ```ts
 * // Whoever the access list lets subscribe to `/reports` (operators and admins by default) reads them.
 * gateway.route('/reports/', (req, res, principal) => {
 *   res.writeHead(200, { 'content-type': 'text/plain' }).end(`reports for ${principal?.id}\n`);
 *   return true;
 * }, { subscribe: '/reports' });
 * ```
 */
export interface RouteAccess {
  /** A topic (or name) the principal's role must be allowed to subscribe to, such as `/media/hls`. */
  subscribe?: string;
  /** A topic (or name) the principal's role must be allowed to publish. */
  publish?: string;
}

/** A route's answer to a request it refused: the status and the text the client gets. */
type Refusal = { status: 401 | 403; text: string };

/** Takes over a WebSocket (or other) upgrade request on its path. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What the HTTP side needs to know. */
export interface HttpSurfaceOptions {
  log: Logger;
  metrics: GatewayMetrics;
  verify: Verifier;
  acl: () => AccessList;
  media: MediaSignalling | undefined;
  health: (() => Promise<AppHealthReport>) | undefined;
  /** Who may read `/metrics` and `/readyz` on the main listener: `admin` (a bearer token of an admin) or everyone. */
  observability: 'admin' | 'open';
  staticDir: string | undefined;
  routes: RouteHandler | undefined;
  /** Why an upgrade request may not proceed (a foreign Origin, an unknown Host…), or undefined. */
  admitUpgrade: (req: IncomingMessage) => string | undefined;
  /** Connections one address may hold before their headers are in (`limits.preHeaderPerAddress`). */
  preHeaderPerAddress: number;
}

/** The path of a request, never its query (a token may ride there). */
export const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0] ?? '/';

/** A path fit for a log line: anything shaped like a token (a JWT, a long secret) blanked out. */
export const loggablePath = (req: IncomingMessage): string =>
  pathOf(req)
    .slice(0, 256)
    .replace(/[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g, '[token]')
    .replace(/[\w-]{40,}/g, '[secret]');

/**
 * The gateway's HTTP server and what it answers, in this order: `/healthz` (open, says only "ok"),
 * `/readyz` and `/metrics` (for admins, or on the separate admin listener), the routes plugins added
 * (each behind its {@link RouteAccess}, when it has one: HLS is the media plugin's), the app's own
 * routes, its static files. Upgrade requests go to the handler registered for their path;
 * socket.io's `/socket.io/` is its own.
 */
export class HttpSurface {
  readonly server: HttpServer;
  readonly #o: HttpSurfaceOptions;
  readonly #routes: { prefix: string; handler: RouteHandler; access: RouteAccess | undefined }[] = [];
  readonly #upgrades = new Map<string, UpgradeHandler>();
  /** The upgrade listeners of what else is attached to the server (socket.io's engine). */
  #fallback: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[] = [];
  readonly #serveStatic: ReturnType<typeof sirv> | undefined;
  readonly #preHeader: PreHeaderCap;
  #admin: HttpServer | undefined;

  constructor(options: HttpSurfaceOptions) {
    this.#o = options;
    this.#serveStatic = options.staticDir
      ? sirv(options.staticDir, { dev: false, etag: true, single: false })
      : undefined;
    this.server = createServer(
      {
        maxHeaderSize: 16_384,
        // A client dribbling its headers (slowloris) is cut after 10 s, checked every 2 s.
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        connectionsCheckingInterval: 2_000,
      },
      (req, res) => this.#handle(req, res, false),
    );
    // Connections that have not sent their headers yet: at most so many per address (the header
    // timeout above cuts each one; this bounds how many one address holds meanwhile).
    const cap = new PreHeaderCap(options.preHeaderPerAddress, () =>
      options.metrics.refusals.inc({ reason: 'connections' }),
    );
    this.#preHeader = cap;
    this.server.prependListener('connection', cap.opened);
    this.server.prependListener('request', (req: IncomingMessage) => cap.headersIn(req.socket));
    this.server.on('upgrade', this.#onUpgrade);
    // A malformed request closes its own connection, never the server.
    this.server.on('clientError', (_error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /**
   * Puts every other upgrade listener on the server (socket.io's) behind this one, so that no
   * upgrade reaches anything before the Origin and Host are checked. Call once, after attaching them.
   */
  adoptUpgradeListeners(): void {
    for (const l of this.server.listeners('upgrade')) {
      if (l === this.#onUpgrade) continue;
      this.server.off('upgrade', l as never);
      this.#fallback.push(l as never);
    }
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.#preHeader.headersIn(socket);
    socket.on('error', () => socket.destroy());
    const refused = this.#o.admitUpgrade(req);
    if (refused) {
      this.#o.metrics.refusals.inc({ reason: 'origin' });
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${refused}\n`,
      );
      return;
    }
    const handler = this.#upgrades.get(pathOf(req));
    try {
      if (handler) handler(req, socket, head);
      else for (const l of this.#fallback) l(req, socket, head);
    } catch (error) {
      this.#o.log.error('upgrade handler failed', { path: loggablePath(req), error: String(error) });
      socket.destroy();
    }
  };

  /**
   * Adds a route for paths starting with `prefix`, behind `access` when given (see
   * {@link RouteAccess}); returns its removal.
   */
  route(prefix: string, handler: RouteHandler, access?: RouteAccess): () => void {
    const entry = { prefix, handler, access };
    this.#routes.push(entry);
    return () => {
      const i = this.#routes.indexOf(entry);
      if (i >= 0) this.#routes.splice(i, 1);
    };
  }

  /** Takes upgrade requests on `path`; returns its removal. */
  upgrade(path: string, handler: UpgradeHandler): () => void {
    if (this.#upgrades.has(path) || path.startsWith('/socket.io'))
      throw new Error(`upgrade path ${path} is taken`);
    this.#upgrades.set(path, handler);
    return () => this.#upgrades.delete(path);
  }

  /** Serves `/healthz`, `/readyz` and `/metrics` to anyone on a second listener (bind it privately). */
  async listenAdmin(port: number, host: string): Promise<string> {
    const admin = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) =>
      this.#handle(req, res, true),
    );
    this.#admin = admin;
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(port, host, () => resolve());
    });
    const a = admin.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    if (admin) await new Promise<void>((resolve) => admin.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse, admin: boolean): void {
    void this.#answer(req, res, admin).catch((error: unknown) => {
      this.#o.log.error('http handler failed', { path: loggablePath(req), error: String(error) });
      if (!res.headersSent) res.writeHead(500).end('internal error\n');
      else res.destroy();
    });
  }

  async #answer(req: IncomingMessage, res: ServerResponse, admin: boolean): Promise<void> {
    const path = pathOf(req);
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz' || path === '/metrics') {
      if (!admin && this.#o.observability === 'admin' && !(await this.#isAdmin(req, res))) return;
      return path === '/readyz' ? this.#ready(res) : this.#metrics(res);
    }
    if (admin) return void res.writeHead(404).end('not found\n');
    // The principal is verified once per request, when the first route with an access rule matches;
    // a refusal answers the request, which goes no further.
    let principal: Promise<Principal | Refusal> | undefined;
    for (const r of [...this.#routes]) {
      if (!path.startsWith(r.prefix)) continue;
      if (!r.access) {
        if (await r.handler(req, res)) return;
        continue;
      }
      principal ??= this.#principal(req);
      const who = await principal;
      if ('status' in who) return this.#refuse(res, who);
      const refused = this.#refusal(who, r.access);
      if (refused) return this.#refuse(res, refused);
      if (await r.handler(req, res, who)) return;
    }
    if (this.#o.routes && (await this.#o.routes(req, res))) return;
    if (this.#serveStatic) {
      this.#serveStatic(req, res, () => void res.writeHead(404).end('not found\n'));
      return;
    }
    res.writeHead(404).end('not found\n');
  }

  async #isAdmin(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('an admin token is required\n');
      return false;
    }
    try {
      const p = await this.#o.verify(bearer);
      if (p.role === 'admin') return true;
      res.writeHead(403).end(`role ${p.role} may not read this\n`);
    } catch (error) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end(`${(error as Error).message}\n`);
    }
    return false;
  }

  async #ready(res: ServerResponse): Promise<void> {
    const h = this.#o.health ? await this.#o.health() : { status: 'ok' as const, plugins: {} };
    res
      .writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
      .end(JSON.stringify(h));
  }

  async #metrics(res: ServerResponse): Promise<void> {
    const media = (await this.#o.media?.metrics?.().catch(() => '')) ?? '';
    const registry = this.#o.metrics.registry;
    res.writeHead(200, { 'content-type': registry.contentType }).end(`${await registry.metrics()}\n${media}`);
  }

  /** Who sent a request, by its bearer token or its `?token=`; or why nobody is let in. */
  async #principal(req: IncomingMessage): Promise<Principal | Refusal> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const query = new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
    try {
      return await this.#o.verify(bearer ?? query);
    } catch (error) {
      return { status: 401, text: (error as Error).message };
    }
  }

  /** Answers a refused request, counted in `telekit_refused_total` (`auth` or `acl`). */
  #refuse(res: ServerResponse, refusal: Refusal): void {
    this.#o.metrics.refusals.inc({ reason: refusal.status === 401 ? 'auth' : 'acl' });
    res
      .writeHead(refusal.status, refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {})
      .end(`${refusal.text}\n`);
  }

  /** Why `principal` may not use a route with `access`, or undefined when it may. */
  #refusal(principal: Principal, access: RouteAccess): Refusal | undefined {
    const rules = this.#o.acl()[principal.role];
    for (const verb of ['subscribe', 'publish'] as const) {
      const topic = access[verb];
      if (topic !== undefined && !allowed(rules[verb], topic))
        return { status: 403, text: `role ${principal.role} may not ${verb} ${topic}` };
    }
    return undefined;
  }
}
