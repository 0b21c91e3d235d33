import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { consoleLogger, systemClock, type Topic } from '@telekit/core';
import { builtinTopics } from '@telekit/core/schemas';
import { Subject } from 'rxjs';
import { type ClientLane, NAMESPACES } from '../protocol.js';
import { Access } from './access.js';
import { defaultAccessList, openAccess, type Verifier } from './auth.js';
import { type Backplane, localBackplane } from './backplane.js';
import { CommandPipeline } from './command-pipeline.js';
import type { GatewayContext } from './context.js';
import { DataLanes } from './data-lane.js';
import { FanOut } from './fan-out.js';
import type { CommandFate, Gateway, GatewayOptions } from './gateway-options.js';
import { Doorman } from './handshake.js';
import { HttpSurface } from './http-surface.js';
import { defaultLimits, type GatewayLimits, RateLimiter } from './limits.js';
import { startLinkHealth } from './link-health.js';
import { LoadMonitor } from './load-monitor.js';
import { GatewayMetrics } from './metrics.js';
import { openDoor } from './peer.js';
import { redisBackplane } from './redis-backplane.js';
import { Sessions } from './session.js';
import { createSocketServer } from './socket-server.js';

export type { ClientLane } from '../protocol.js';
export type { CommandFate, Gateway, GatewayClientInfo, GatewayOptions } from './gateway-options.js';

/**
 * Creates the gateway: socket.io between browsers and the app's transport, one connection per lane,
 * with authentication, origin and connection limits, the control lease, one safety chain, rate limits,
 * link health, Prometheus metrics, health endpoints and static hosting. Its parts:
 *
 * | part | file |
 * |---|---|
 * | the wire: what a client may send at all | `wire-parser.ts` |
 * | who may connect, and to which session | `handshake.ts`, `session.ts` |
 * | socket.io: namespaces, upgrades, broadcasts | `socket-server.ts` |
 * | one handler per event, with rates and replies | `connection.ts`, `handlers.ts`, `limits.ts` |
 * | the safety chain of every command | `command-pipeline.ts` |
 * | app → clients | `fan-out.ts`, `outbox.ts` |
 * | each client's link, once a second | `link-health.ts` |
 * | HTTP, admin, extension routes and upgrades | `http-surface.ts` |
 *
 * Closing closes them in reverse order of making.
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
  const { ctx, open, redis, access } = await makeContext(options);
  const { clock, log, metrics, topics, sessions, backplane, verify } = ctx;

  const origins = options.origins ?? (options.cors ? [options.cors].flat() : undefined);
  const doorman = new Doorman(ctx, {
    origins,
    hosts: options.hosts,
    polling: options.polling === true,
    anonymous: open,
  });
  if (options.dataChannel !== false)
    ctx.dataLanes = new DataLanes(ctx, options.dataChannel ?? {}, (s) => doorman.penalise(s, clock.now()));
  const http = new HttpSurface({
    log,
    metrics,
    verify,
    acl: ctx.acl,
    media: options.media,
    health: options.health,
    observability: open ? 'open' : (options.observability ?? 'admin'),
    staticDir: options.staticDir,
    routes: options.routes,
    admitUpgrade: (req) => doorman.admitUpgrade(req),
    preHeaderPerAddress: ctx.limits.preHeaderPerAddress,
  });
  const connections = new Set<NetSocket>();
  http.server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const sockets = await createSocketServer(ctx, http, {
    doorman,
    origins,
    polling: options.polling === true,
    redis,
  });

  // With several instances, each relays all telemetry, so clients of one see the robot of another.
  if (redis) for (const t of topics.values()) if (t.lane === 'telemetry') ctx.fanOut.want(t);
  const relayed = backplane.relayed$.subscribe((r) => {
    const topic = topics.get(r.topic);
    if (!topic) return;
    if (r.lane === 'telemetry') ctx.fanOut.deliver(topic, r.message);
    else options.transport.publish(topic, r.message);
  });
  const stopLinkHealth = startLinkHealth(ctx);

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
    commandFates$: ctx.fates.asObservable(),
    lease$: backplane.lease$,
    estop$: backplane.estop$,
    clients: () =>
      [...sessions.values()].map((s) => ({
        id: s.id,
        name: s.name,
        role: s.principal.role,
        lanes: Object.keys(s.sockets) as ClientLane[],
      })),
    route: (prefix, handler, access) => http.route(prefix, handler, access),
    upgrade: (path, handler) => http.upgrade(path, handler),
    addTopics(more) {
      for (const t of more) topics.set(t.name, t);
    },
    grant: (roles, rules) => access.grant(roles, rules),
    halt: () => ctx.pipeline.stopMotion(),
    dropDataChannels(clientId) {
      for (const s of [...sessions.values()])
        if (clientId === undefined || s.id === clientId) ctx.dataLanes?.close(s, 'dropped by the app');
    },
    door: (address) =>
      openDoor(ctx, { doorman, anonymous: open, penalise: (s) => doorman.penalise(s, clock.now()) }, address),
    dropConnections(clientId) {
      // Clients at other doors (rosbridge, Foxglove) have no socket.io sockets: their sessions end.
      for (const s of [...sessions.values()])
        if (!s.live && (clientId === undefined || s.id === clientId)) s.close();
      for (const s of [...sessions.values()])
        if (clientId === undefined || s.id === clientId) ctx.dataLanes?.close(s, 'connections dropped');
      for (const lane of ['control', 'telemetry'] as const) {
        for (const socket of sockets.io.of(NAMESPACES[lane]).sockets.values()) {
          const s = (socket.data as { session?: { id: string } }).session;
          if (clientId === undefined || s?.id === clientId) socket.conn.close();
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      stopLinkHealth();
      ctx.dataLanes?.closeAll();
      relayed.unsubscribe();
      ctx.load.close();
      ctx.pipeline.close();
      ctx.fanOut.close();
      ctx.fates.complete();
      const stopped = sockets.close();
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

/**
 * The parts every other part of a gateway shares ({@link GatewayContext}), made from its options:
 * its clock, log and metrics, the limits, the topics and the access list, the backplane (local, or
 * Redis for several instances), the sessions, the command pipeline and the fan-out.
 */
async function makeContext(options: GatewayOptions) {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/gateway' } });
  const open = options.auth === 'none';
  const verify: Verifier = open ? openAccess('operator') : (options.auth as Verifier);
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
  const access = new Access(options.acl ?? defaultAccessList);
  const redis = typeof options.redis === 'string' ? { url: options.redis } : options.redis;
  const backplane: Backplane = redis
    ? await redisBackplane(redis.url, log, redis.prefix ? { prefix: redis.prefix } : {})
    : localBackplane(clock);
  const sessions = new Sessions();
  const ctx: GatewayContext = {
    clock,
    log,
    metrics,
    transport: options.transport,
    backplane,
    verify,
    acl: () => access.list,
    topics,
    sessions,
    limiter: new RateLimiter(limits),
    limits,
    maxPayloadBytes: options.maxPayloadBytes ?? 16_384,
    pipeline: new CommandPipeline({
      clock,
      log,
      metrics,
      transport: options.transport,
      backplane,
      deadmanMs: options.deadmanMs ?? 250,
      session: (id) => sessions.get(id),
    }),
    fanOut: new FanOut(options.transport, sessions, backplane, redis !== undefined, { metrics, log }),
    load: new LoadMonitor(),
    media: options.media,
    fates: new Subject<CommandFate>(),
  };
  return { ctx, open, redis, access };
}
