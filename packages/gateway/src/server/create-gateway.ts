import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import {
  type AppHealthReport,
  builtinTopics,
  type Clock,
  consoleLogger,
  type Logger,
  type MediaSignalling,
  type Role,
  systemClock,
  type Topic,
  Topics,
  type Transport,
} from '@telekit/core';
import type { Subscription } from 'rxjs';
import { Server } from 'socket.io';
import { type ClientLane, type LinkHealth, NAMESPACES } from '../protocol.js';
import { serverParser } from '../wire-parser.js';
import { type AccessList, defaultAccessList, openAccess, type Principal, type Verifier } from './auth.js';
import { type Backplane, localBackplane } from './backplane.js';
import { CommandPipeline } from './command-pipeline.js';
import { attachConnection } from './connection.js';
import type { GatewayContext } from './context.js';
import { FanOut } from './fan-out.js';
import { addressOf, Doorman } from './handshake.js';
import { HttpSurface, type RouteHandler, type UpgradeHandler } from './http-surface.js';
import { defaultLimits, type GatewayLimits, type Rate, RateLimiter } from './limits.js';
import { LoadMonitor } from './load-monitor.js';
import { GatewayMetrics } from './metrics.js';
import { redisBackplane } from './redis-backplane.js';
import { Sessions } from './session.js';

export type { ClientLane } from '../protocol.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The app's transport: commands from browsers go in, telemetry for browsers comes out. */
  transport: Transport;
  /**
   * Who may connect. A {@link Verifier} (such as `jwtVerifier({ secret })`), or `'none'` to let
   * everyone in as an operator (a demo on a trusted network only). Required: there is no silent default.
   */
  auth: Verifier | 'none';
  /** Per-role topic allow-lists. Default {@link defaultAccessList}. */
  acl?: AccessList;
  /** Topics beyond the built-in ones that clients may use. */
  topics?: readonly Topic[];
  /** Deadman timeout for the lease holder, ms. Default 250. */
  deadmanMs?: number;
  /** What one client may cost: rates, connections, unsent bytes, refusals. See {@link GatewayLimits}. */
  limits?: Partial<GatewayLimits>;
  /** @deprecated Use `limits.commands` and `limits.requests`. */
  rateLimit?: { commands?: Rate; requests?: Rate };
  /** Largest message a client may send, bytes. Default 16 384. */
  maxPayloadBytes?: number;
  /** A directory of static files to serve (an app's web bundle). */
  staticDir?: string;
  /** Extra HTTP routes, tried before the static files; return true when handled. */
  routes?: RouteHandler;
  /** Answers viewers' `/media/*` requests (the media plugin provides it). */
  media?: MediaSignalling;
  /**
   * Scale-out: a Redis URL (or the URL and a key prefix, default `telekit`); instances sharing it
   * share the lease, the e-stop and the traffic.
   */
  redis?: string | { url: string; prefix?: string };
  /** Readiness: the app's health (plugins). Default: always ready. */
  health?: () => Promise<AppHealthReport>;
  /**
   * Browser origins allowed to connect (`https://ops.example.com`; `*` for any). A handshake with an
   * `Origin` header not on the list is refused with HTTP 403; clients that send none (Node, Python)
   * are not browsers and pass. Default: the gateway's own origin only (the `Host` it was reached by).
   */
  origins?: readonly string[];
  /**
   * Without `origins`, the host names a same-origin page may use. Default: IP addresses, `localhost`
   * and this machine's host name (a domain rebound to this address is refused: DNS rebinding).
   */
  hosts?: readonly string[];
  /** @deprecated Use `origins`. */
  cors?: string | string[];
  /**
   * Who may read `/metrics` and `/readyz`: `admin` (default: an admin's bearer token, or anyone on the
   * `admin` listener) or `open` (anyone who reaches the port). With `auth: 'none'` they are open.
   */
  observability?: 'admin' | 'open';
  /** A second listener that serves `/healthz`, `/readyz` and `/metrics` to anyone: bind it privately. */
  admin?: { port: number; host?: string };
  /** WebSocket only (default), or also HTTP long-polling for networks that block WebSockets. */
  polling?: boolean;
  logger?: Logger;
  clock?: Clock;
}

/** A client as {@link Gateway.clients} lists it. */
export interface GatewayClientInfo {
  id: string;
  name: string;
  role: Principal['role'];
  lanes: ClientLane[];
}

/** A running gateway, and the extension points plugins use (through `GatewayToken`). */
export interface Gateway {
  /** Starts listening; resolves with the URL. Default port 0 (any free one), host 127.0.0.1. */
  listen(port?: number, host?: string): Promise<string>;
  readonly url: string;
  /** The admin listener's URL, when there is one. */
  readonly adminUrl: string | undefined;
  readonly http: HttpServer;
  readonly metrics: GatewayMetrics;
  /** Connected clients. */
  clients(): GatewayClientInfo[];
  /** Adds an HTTP route for paths starting with `prefix` (tried before static files); returns its removal. */
  route(prefix: string, handler: RouteHandler): () => void;
  /** Takes WebSocket upgrades on `path` (a rosbridge or Foxglove endpoint); returns its removal. */
  upgrade(path: string, handler: UpgradeHandler): () => void;
  /** Lets clients use more topics. */
  addTopics(topics: readonly Topic[]): void;
  /** Lets `roles` publish (or subscribe to) more topics (names or `prefix*`); returns its removal. */
  grant(
    roles: readonly Role[],
    rules: { publish?: readonly string[]; subscribe?: readonly string[] },
  ): () => void;
  /** Sends the zero of every motion topic that moved, at once (the process is dying; see `Plugin.halt`). */
  halt(): void;
  /** Cuts every client's connections abruptly, or one client's (they reconnect by themselves): for tests and drills. */
  dropConnections(clientId?: string): void;
  /** Disconnects everyone and stops. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Creates the gateway: socket.io between browsers and the app's transport, one connection per lane,
 * with authentication, origin and connection limits, the control lease, one safety chain, rate limits,
 * link health, Prometheus metrics, health endpoints and static hosting. Its parts:
 *
 * | part | file |
 * |---|---|
 * | the wire: what a client may send at all | `wire-parser.ts` |
 * | who may connect, and to which session | `handshake.ts`, `session.ts` |
 * | one handler per event, with rates and replies | `connection.ts`, `handlers.ts`, `limits.ts` |
 * | the safety chain of every command | `command-pipeline.ts` |
 * | app → clients | `fan-out.ts`, `outbox.ts` |
 * | HTTP, admin, extension routes and upgrades | `http-surface.ts` |
 *
 * @example
 * ```ts
 * import { inProcessTransport } from '@telekit/core';
 * import { createGateway, jwtVerifier } from '@telekit/gateway';
 * const gateway = await createGateway({ transport: inProcessTransport(), auth: jwtVerifier({ secret: process.env.SECRET! }) });
 * console.log(await gateway.listen(8080, '0.0.0.0'));
 * ```
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/gateway' } });
  const open = options.auth === 'none';
  const verify: Verifier = open ? openAccess('operator') : (options.auth as Verifier);
  const maxPayloadBytes = options.maxPayloadBytes ?? 16_384;
  const limits: GatewayLimits = {
    ...defaultLimits,
    ...(options.rateLimit?.commands ? { commands: options.rateLimit.commands } : {}),
    ...(options.rateLimit?.requests ? { requests: options.rateLimit.requests } : {}),
    // Without authentication everyone is the same principal: sessions are not counted per principal.
    ...(open ? { sessionsPerPrincipal: Number.POSITIVE_INFINITY } : {}),
    ...options.limits,
  };
  const metrics = new GatewayMetrics();
  const topics = new Map<string, Topic>(
    [...builtinTopics, ...(options.topics ?? [])].map((t) => [t.name, t]),
  );
  const grants: { roles: readonly Role[]; publish: readonly string[]; subscribe: readonly string[] }[] = [];
  const baseAcl = options.acl ?? defaultAccessList;
  const acl = (): AccessList => {
    if (grants.length === 0) return baseAcl;
    const out = { ...baseAcl } as Record<Role, { subscribe: readonly string[]; publish: readonly string[] }>;
    for (const g of grants)
      for (const role of g.roles)
        out[role] = {
          subscribe: [...out[role].subscribe, ...g.subscribe],
          publish: [...out[role].publish, ...g.publish],
        };
    return out;
  };
  const redis = typeof options.redis === 'string' ? { url: options.redis } : options.redis;
  const backplane: Backplane = redis
    ? await redisBackplane(redis.url, log, redis.prefix ? { prefix: redis.prefix } : {})
    : localBackplane(clock);
  const sessions = new Sessions();
  const subscriptions: Subscription[] = [];
  const ctx: GatewayContext = {
    clock,
    log,
    metrics,
    transport: options.transport,
    backplane,
    verify,
    acl,
    topics,
    sessions,
    limiter: new RateLimiter(limits),
    limits,
    maxPayloadBytes,
    pipeline: new CommandPipeline({
      clock,
      log,
      metrics,
      transport: options.transport,
      backplane,
      deadmanMs: options.deadmanMs ?? 250,
      session: (id) => sessions.get(id),
    }),
    fanOut: new FanOut(options.transport, sessions, backplane, redis !== undefined),
    load: new LoadMonitor(),
    media: options.media,
  };

  const http = new HttpSurface({
    log,
    metrics,
    verify,
    acl,
    media: options.media,
    health: options.health,
    observability: open ? 'open' : (options.observability ?? 'admin'),
    staticDir: options.staticDir,
    routes: options.routes,
    admitUpgrade: (req) => doorman.admitUpgrade(req),
  });
  const connections = new Set<NetSocket>();
  http.server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  // ---------------------------------------------------------------- socket.io
  const origins = options.origins ?? (options.cors ? [options.cors].flat() : undefined);
  const doorman = new Doorman(ctx, { origins, hosts: options.hosts, polling: options.polling === true });
  const io = new Server(http.server, {
    parser: serverParser(maxPayloadBytes),
    serveClient: false,
    transports: options.polling ? ['polling', 'websocket'] : ['websocket'],
    // A hard ceiling on one frame (engine.io closes the connection above it); the per-message limit
    // answers with a clear error well before it.
    maxHttpBufferSize: Math.max(maxPayloadBytes * 4, 65_536),
    pingInterval: 5_000,
    pingTimeout: 5_000,
    connectTimeout: limits.authTimeoutMs,
    allowRequest: doorman.allowRequest,
    ...(origins ? { cors: { origin: [...origins] } } : {}),
  });
  http.adoptUpgradeListeners();
  io.engine.on(
    'connection',
    (conn: {
      request: import('node:http').IncomingMessage;
      once: (e: string, f: () => void) => void;
      data?: unknown;
    }) => {
      const door = doorman.opened(addressOf(conn.request));
      (conn as { telekitDoor?: typeof door }).telekitDoor = door;
      const tcp = conn.request.socket;
      conn.once('close', () => {
        door.closed();
        // Closed by either side (a frame over the ceiling, a protocol violation, a disconnect): the
        // WebSocket's closing handshake gets a second, not ws's thirty, while a peer that does not
        // close keeps pushing bytes the gateway must read.
        setTimeout(() => tcp.destroy(), 1_000).unref();
      });
    },
  );
  if (redis) {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { createClient } = await import('redis');
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: `${redis.prefix ?? 'telekit'}#socket.io` }));
    subscriptions.push({
      unsubscribe: () => void Promise.allSettled([pub.quit(), sub.quit()]),
    } as Subscription);
  }
  // The default namespace serves nothing: every connection to it is refused.
  io.of('/').use((_socket, next) => {
    const err = new Error('no such namespace: connect to /control or /telemetry') as Error & {
      data?: unknown;
    };
    err.data = { code: 'E_NAMESPACE' };
    next(err);
  });
  const hooks = { penalise: (s: import('./session.js').Session) => doorman.penalise(s, clock.now()) };
  for (const lane of ['control', 'telemetry'] as const) {
    const ns = io.of(NAMESPACES[lane]);
    ns.use((socket, next) => void doorman.authenticate(lane)(socket, next));
    ns.use((socket, next) => {
      (socket.conn as unknown as { telekitDoor?: { authenticated(): void } }).telekitDoor?.authenticated();
      next();
    });
    ns.on('connection', attachConnection(ctx, lane, hooks));
  }

  subscriptions.push(
    backplane.estop$.subscribe((s) => io.of(NAMESPACES.control).local.emit('estop', s)),
    backplane.lease$.subscribe((holder) => {
      metrics.setLease(holder?.name);
      io.of(NAMESPACES.control).local.emit('lease', holder);
    }),
  );

  // With several instances, each relays all telemetry, so clients of one see the robot of another.
  if (redis) for (const t of topics.values()) if (t.lane === 'telemetry') ctx.fanOut.want(t);
  subscriptions.push(
    backplane.relayed$.subscribe((r) => {
      const topic = topics.get(r.topic);
      if (!topic) return;
      if (r.lane === 'telemetry') ctx.fanOut.deliver(topic, r.message);
      else options.transport.publish(topic, r.message);
    }),
    // What became of each command where it acts, and where its time went: every client gets its
    // own figures (admitted commands carry the gateway's clock, and so do their reports).
    options.transport.subscribe(Topics.actuation, { depth: 1024 }).subscribe((a) => {
      const session = sessions.get(a.command.sender);
      if (!session) return;
      const accounted = session.actuated(a, clock.now());
      for (const [stage, ms] of accounted.stages) metrics.commandStages.observe({ stage }, ms / 1000);
      for (const ms of accounted.inputToActuation) metrics.inputToActuation.observe(ms / 1000);
      metrics.fates.inc({ fate: a.fate });
    }),
  );

  // Each client hears about its own link once a second.
  const healthTimer = setInterval(() => {
    for (const s of sessions.values()) {
      const socket = s.sockets.control;
      if (!socket || !s.writable(socket, clock.now())) continue;
      const budget = s.stages.budget(clock.now());
      const health: LinkHealth = {
        rtt: s.clock.rtt(),
        offset: s.clock.offset,
        inputToActuation: budget.inputToActuation,
        fates: s.fates,
        budget,
        drops: { telemetry: s.outboxes.telemetry?.dropped() ?? 0, control: s.refused },
        lease: backplane.holder,
      };
      socket.emit('health', health);
    }
  }, 1_000);
  healthTimer.unref();

  let url = '';
  let adminUrl: string | undefined;
  let closed = false;
  return {
    async listen(port = 0, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        http.server.once('error', reject);
        http.server.listen(port, host, () => {
          http.server.off('error', reject);
          resolve();
        });
      });
      const a = http.server.address() as AddressInfo;
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      if (options.admin)
        adminUrl = await http.listenAdmin(options.admin.port, options.admin.host ?? '127.0.0.1');
      log.info('gateway listening', { url, ...(adminUrl ? { admin: adminUrl } : {}) });
      return url;
    },
    get url() {
      return url;
    },
    get adminUrl() {
      return adminUrl;
    },
    http: http.server,
    metrics,
    clients: () =>
      [...sessions.values()].map((s) => ({
        id: s.id,
        name: s.name,
        role: s.principal.role,
        lanes: Object.keys(s.sockets) as ClientLane[],
      })),
    route: (prefix, handler) => http.route(prefix, handler),
    upgrade: (path, handler) => http.upgrade(path, handler),
    addTopics(more) {
      for (const t of more) topics.set(t.name, t);
    },
    grant(roles, rules) {
      const g = { roles, publish: rules.publish ?? [], subscribe: rules.subscribe ?? [] };
      grants.push(g);
      return () => {
        const i = grants.indexOf(g);
        if (i >= 0) grants.splice(i, 1);
      };
    },
    halt: () => ctx.pipeline.stopMotion(),
    dropConnections(clientId) {
      for (const lane of ['control', 'telemetry'] as const) {
        for (const socket of io.of(NAMESPACES[lane]).sockets.values()) {
          const s = (socket.data as { session?: { id: string } }).session;
          if (clientId === undefined || s?.id === clientId) socket.conn.close();
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(healthTimer);
      ctx.load.close();
      ctx.pipeline.close();
      ctx.fanOut.close();
      for (const s of subscriptions) s.unsubscribe();
      const stopped = new Promise<void>((resolve) => io.close(() => resolve()));
      // A client that stopped reading would hold its connection open for the WebSocket close
      // handshake's timeout: cut what is left.
      for (const socket of connections) socket.destroy();
      await stopped;
      await http.close();
      sessions.closeAll();
      await backplane.close();
    },
  };
}
