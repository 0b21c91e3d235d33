import { readFile } from 'node:fs/promises';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type AppHealthReport,
  builtinTopics,
  type Clock,
  checkDeadline,
  checkMessage,
  consoleLogger,
  EStopLatch,
  type Gamepad,
  type Header,
  type JointCommand,
  type Logger,
  type MediaSignalling,
  type SafetyEvent,
  SafetyGate,
  systemClock,
  type Topic,
  Topics,
  type Transport,
  type Twist,
  zeroTwist,
} from '@telekit/core';
import { Subject, type Subscription } from 'rxjs';
import sirv from 'sirv';
import { Server, type Socket } from 'socket.io';
import msgpackParser from 'socket.io-msgpack-parser';
import type * as z from 'zod';
import { packMessage } from '../codec.js';
import {
  type Ack,
  AuthPayload,
  GATEWAY_PROTOCOL,
  type LeaseAnswer,
  LeaseRequest,
  type LinkHealth,
  NAMESPACES,
  SubscribeRequest,
  TimeProbe,
  UnsubscribeRequest,
  type Welcome,
  type WireError,
} from '../protocol.js';
import {
  type AccessList,
  AuthError,
  allowed,
  defaultAccessList,
  type Principal,
  type Verifier,
} from './auth.js';
import { type Backplane, localBackplane } from './backplane.js';
import { GatewayMetrics } from './metrics.js';
import { Outbox, type Packed } from './outbox.js';
import { redisBackplane } from './redis-backplane.js';
import { TokenBucket } from './token-bucket.js';

/** The two connections a client holds to the gateway. */
export type ClientLane = 'control' | 'telemetry';
type Lane = ClientLane;

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
  /** Per-client limits. Defaults: commands 100/s (burst 100), other requests 50/s (burst 100). */
  rateLimit?: { commands?: { rate: number; burst: number }; requests?: { rate: number; burst: number } };
  /** Largest message a client may send, bytes. Default 16 384. */
  maxPayloadBytes?: number;
  /** A directory of static files to serve (an app's web bundle). */
  staticDir?: string;
  /** Extra HTTP routes, tried before the static files; return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Answers viewers' `/media/*` requests (the media plugin provides it). */
  media?: MediaSignalling;
  /** Scale-out: a Redis URL; instances sharing it share the lease, the e-stop and the traffic. */
  redis?: string;
  /** Readiness: the app's health (plugins). Default: always ready. */
  health?: () => Promise<AppHealthReport>;
  /** Allowed browser origins (CORS) for the socket.io handshake. Default: same origin only. */
  cors?: string | string[];
  /** WebSocket only (default), or also HTTP long-polling for networks that block WebSockets. */
  polling?: boolean;
  logger?: Logger;
  clock?: Clock;
}

/** A running gateway. */
export interface Gateway {
  /** Starts listening; resolves with the URL. Default port 0 (any free one), host 127.0.0.1. */
  listen(port?: number, host?: string): Promise<string>;
  readonly url: string;
  readonly http: HttpServer;
  readonly metrics: GatewayMetrics;
  /** Connected clients: id, role, lanes. */
  clients(): { id: string; role: Principal['role']; lanes: ClientLane[] }[];
  /** Cuts every client's connections abruptly, or one client's (they reconnect by themselves): for tests and drills. */
  dropConnections(clientId?: string): void;
  /** Disconnects everyone and stops. Safe to call twice. */
  close(): Promise<void>;
}

interface Session {
  readonly id: string;
  readonly principal: Principal;
  sockets: Partial<Record<Lane, Socket>>;
  outboxes: Partial<Record<Lane, Outbox>>;
  offset: number | null;
  rtt: number | null;
  actuation: number[];
  commandBucket: TokenBucket;
  requestBucket: TokenBucket;
  refused: number;
}

/** A command topic that moves the robot, and how to stop it. */
interface MotionTopic<T extends { header: Header }> {
  topic: Topic<T>;
  zero: (last: T | undefined, now: number) => T | undefined;
}

const motionTopics = [
  { topic: Topics.twist, zero: (last, now) => zeroTwist(now, last?.header) } satisfies MotionTopic<Twist>,
  {
    topic: Topics.joints,
    // Velocity and effort targets go to zero; position targets hold where they are.
    zero: (last, now) =>
      last && (last.velocity || last.effort)
        ? {
            header: { ...last.header, stamp: now },
            name: last.name,
            ...(last.velocity ? { velocity: last.velocity.map(() => 0) } : {}),
            ...(last.effort ? { effort: last.effort.map(() => 0) } : {}),
            ...(last.position ? { position: last.position } : {}),
          }
        : undefined,
  } satisfies MotionTopic<JointCommand>,
  {
    topic: Topics.gamepad,
    zero: (last, now) =>
      last
        ? {
            header: { ...last.header, stamp: now },
            axes: last.axes.map(() => 0),
            buttons: last.buttons.map(() => ({ pressed: false, value: 0 })),
          }
        : undefined,
  } satisfies MotionTopic<Gamepad>,
] as MotionTopic<{ header: Header }>[];

const SENTINEL_ZERO = Symbol('no zero');

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  return 0;
}

const fault = (code: string, message: string, extra: Partial<WireError> = {}): WireError => ({
  code,
  message,
  ...extra,
});

/**
 * Creates the gateway: socket.io between browsers and the app's transport, one connection per lane,
 * with authentication, allow-lists, the control lease, the safety gate, rate limits, link health,
 * Prometheus metrics, health endpoints and static hosting.
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
  const transport = options.transport;
  const acl = options.acl ?? defaultAccessList;
  const verify: Verifier =
    options.auth === 'none' ? async () => ({ id: 'anonymous', role: 'operator' }) : options.auth;
  const maxPayload = options.maxPayloadBytes ?? 16_384;
  const commandRate = options.rateLimit?.commands ?? { rate: 100, burst: 100 };
  const requestRate = options.rateLimit?.requests ?? { rate: 50, burst: 100 };
  const metrics = new GatewayMetrics();
  const topics = new Map<string, Topic>(
    [...builtinTopics, ...(options.topics ?? [])].map((t) => [t.name, t]),
  );
  const backplane: Backplane = options.redis
    ? await redisBackplane(options.redis, log)
    : localBackplane(clock);
  const sessions = new Map<string, Session>();
  const subscriptions: Subscription[] = [];
  let closed = false;

  // ---------------------------------------------------------------- HTTP
  const serveStatic = options.staticDir
    ? sirv(options.staticDir, { dev: false, etag: true, single: false })
    : undefined;
  const http = createServer((req, res) => {
    void handleHttp(req, res).catch((error: unknown) => {
      log.error('http handler failed', { url: req.url, error: String(error) });
      if (!res.headersSent) res.writeHead(500).end('internal error\n');
    });
  });
  const handleHttp = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (path === '/readyz') {
      const h = options.health ? await options.health() : { status: 'ok' as const, plugins: {} };
      res
        .writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(h));
      return;
    }
    if (path === '/metrics') {
      const media = (await options.media?.metrics?.().catch(() => '')) ?? '';
      res
        .writeHead(200, { 'content-type': metrics.registry.contentType })
        .end(`${await metrics.registry.metrics()}\n${media}`);
      return;
    }
    if (path?.startsWith('/media/hls/')) return serveHls(req, res, path);
    if (options.routes && (await options.routes(req, res))) return;
    if (serveStatic) {
      serveStatic(req, res, () => void res.writeHead(404).end('not found\n'));
      return;
    }
    res.writeHead(404).end('not found\n');
  };

  // HLS: the media plugin's playlists and segments, for viewers the verifier lets in (a token in
  // `Authorization: Bearer …` or `?token=`, as hls.js can send either).
  const hlsFile = /^\/media\/hls\/([\w.-]{1,128})\/([\w.-]{1,128}\.(m3u8|ts|m4s|mp4))$/;
  const hlsTypes: Record<string, string> = {
    m3u8: 'application/vnd.apple.mpegurl',
    ts: 'video/mp2t',
    m4s: 'video/iso.segment',
    mp4: 'video/mp4',
  };
  const serveHls = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const m = hlsFile.exec(path);
    const dir = m ? options.media?.hlsDirectory?.(m[1]!) : undefined;
    if (!m || !dir) return void res.writeHead(404).end('no such stream or file\n');
    const url = new URL(req.url ?? '/', 'http://gateway');
    const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, '');
    try {
      const principal = await verify(bearer ?? url.searchParams.get('token') ?? undefined);
      if (!allowed(acl[principal.role].subscribe, '/media/hls'))
        return void res.writeHead(403).end(`role ${principal.role} may not watch video\n`);
    } catch (error) {
      return void res.writeHead(401).end(`${(error as Error).message}\n`);
    }
    try {
      const body = await readFile(join(dir, m[2]!));
      res
        .writeHead(200, {
          'content-type': hlsTypes[m[3]!]!,
          'cache-control': m[3] === 'm3u8' ? 'no-cache' : 'max-age=60',
        })
        .end(body);
    } catch {
      // A segment rolled off the playlist between listing and fetching.
      res.writeHead(404).end('gone\n');
    }
  };

  // ---------------------------------------------------------------- socket.io
  const connections = new Set<import('node:net').Socket>();
  http.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const io = new Server(http, {
    parser: msgpackParser,
    serveClient: false,
    transports: options.polling ? ['polling', 'websocket'] : ['websocket'],
    // A hard ceiling; the per-message limit below answers with a clear error well before it.
    maxHttpBufferSize: Math.max(1_000_000, maxPayload * 4),
    pingInterval: 5_000,
    pingTimeout: 5_000,
    ...(options.cors ? { cors: { origin: options.cors } } : {}),
  });
  if (options.redis) {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { createClient } = await import('redis');
    const pub = createClient({ url: options.redis });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
    subscriptions.push({
      unsubscribe: () => void Promise.allSettled([pub.quit(), sub.quit()]),
    } as Subscription);
  }

  // ---------------------------------------------------------------- safety
  // The gates' e-stop mirrors the backplane's (shared across instances with Redis).
  const latch = new EStopLatch({ clock });
  const offsetOf = (sender: string) => sessions.get(sender)?.offset ?? 0;
  const inputs = new Map<string, Subject<{ header: Header }>>();
  const gates: SafetyGate<{ header: Header }>[] = [];
  const lastPassed = new Map<string, { header: Header }>();
  const onSafety = (topic: string) => (e: SafetyEvent) => {
    switch (e.type) {
      case 'deadman':
        metrics.deadmanTrips.inc();
        log.info('deadman trip: zero command sent', { topic, client: e.sender });
        break;
      case 'stale':
        refuse(
          e.sender,
          'stale',
          fault('E_STALE', `command dropped: ${Math.round(e.age)} ms old, past its deadline`, { topic }),
          'control',
        );
        break;
      case 'out-of-order':
        refuse(
          e.sender,
          'out-of-order',
          fault('E_OUT_OF_ORDER', `command dropped: seq ${e.seq} is not after ${e.last}`, { topic }),
          'control',
        );
        break;
      case 'estop-blocked':
        refuse(
          e.sender,
          'estop',
          fault('E_ESTOP', 'command refused: the e-stop is engaged', { topic }),
          'control',
        );
        break;
      default:
        break;
    }
  };
  for (const m of motionTopics) {
    const input = new Subject<{ header: Header }>();
    const gate = new SafetyGate<{ header: Header }>({
      clock,
      estop: latch,
      deadmanMs: options.deadmanMs ?? 250,
      ttl: m.topic.ttl,
      offset: offsetOf,
      zero: (last, now) => m.zero(last, now) ?? (SENTINEL_ZERO as never),
    });
    gates.push(gate);
    inputs.set(m.topic.name, input);
    subscriptions.push(gate.events$.subscribe(onSafety(m.topic.name)));
    subscriptions.push(
      input.pipe(gate.apply()).subscribe((cmd) => {
        if ((cmd as unknown) === SENTINEL_ZERO) return;
        lastPassed.set(m.topic.name, cmd);
        forward(m.topic, cmd);
      }),
    );
  }
  subscriptions.push(
    backplane.estop$.subscribe((s) => {
      if (s.latched && latch.engage(s.by ?? 'unknown', s.reason)) metrics.estops.inc();
      if (!s.latched) latch.clear(s.by ?? 'unknown');
      io.of(NAMESPACES.control).local.emit('estop', s);
    }),
    backplane.lease$.subscribe((holder) => {
      metrics.setLease(holder?.id);
      io.of(NAMESPACES.control).local.emit('lease', holder);
      // Control changed hands: whatever the previous holder commanded stops now, not at the deadman.
      if (!holder) stopMotion();
    }),
  );

  function stopMotion() {
    const now = clock.now();
    for (const m of motionTopics) {
      const last = lastPassed.get(m.topic.name);
      if (!last) continue;
      const zero = m.zero(last, now);
      if (zero) forward(m.topic, zero);
      lastPassed.delete(m.topic.name);
    }
  }

  /** A command that passed every check: onto the app's transport, and to the other instances. */
  function forward(topic: Topic, message: unknown) {
    try {
      transport.publish(topic, message);
    } catch (error) {
      log.error('app transport refused a forwarded message', { topic: topic.name, error: String(error) });
    }
    backplane.relay({ lane: 'control', topic: topic.name, message });
  }

  // ---------------------------------------------------------------- app transport → clients
  const demand = new Map<string, { count: number; sub: Subscription }>();
  const lastSample = new Map<string, unknown>();
  const fanOut = (topic: Topic, message: unknown) => {
    if (topic.lane === 'telemetry') lastSample.set(topic.name, message);
    const lane: Lane = topic.lane === 'control' ? 'control' : 'telemetry';
    // Encoded once, however many clients get it.
    let packed: Packed | undefined;
    for (const s of sessions.values()) {
      const outbox = s.outboxes[lane];
      if (!outbox?.has(topic.name)) continue;
      packed ??= { message, bytes: packMessage(message) };
      outbox.push(topic.name, packed);
    }
  };
  const want = (topic: Topic) => {
    const d = demand.get(topic.name);
    if (d) {
      d.count++;
      return;
    }
    const sub = transport.subscribe(topic, { depth: 1024 }).subscribe((m) => {
      fanOut(topic, m);
      if (options.redis && topic.lane === 'telemetry')
        backplane.relay({ lane: 'telemetry', topic: topic.name, message: m });
    });
    demand.set(topic.name, { count: 1, sub });
  };
  const unwant = (topic: string) => {
    const d = demand.get(topic);
    if (!d) return;
    if (--d.count > 0) return;
    d.sub.unsubscribe();
    demand.delete(topic);
    lastSample.delete(topic);
  };
  // With several instances, each relays all telemetry, so clients of one see the robot of another.
  if (options.redis) for (const t of topics.values()) if (t.lane === 'telemetry') want(t);
  subscriptions.push(
    backplane.relayed$.subscribe((r) => {
      const topic = topics.get(r.topic);
      if (!topic) return;
      if (r.lane === 'telemetry') fanOut(topic, r.message);
      else transport.publish(topic, r.message);
    }),
  );

  // Input→actuation: whatever actuates a command reports it; each client gets its own figures.
  subscriptions.push(
    transport.subscribe(Topics.actuation, { depth: 1024 }).subscribe((a) => {
      const session = sessions.get(a.command.sender);
      if (!session) return;
      const ms = a.actuatedAt - (a.command.stamp + (session.offset ?? 0));
      session.actuation.push(ms);
      if (session.actuation.length > 256) session.actuation.shift();
      metrics.inputToActuation.observe(Math.max(0, ms) / 1000);
    }),
  );

  // ---------------------------------------------------------------- clients
  function refuse(clientId: string, reason: string, error: WireError, lane: Lane = 'control') {
    metrics.refusals.inc({ reason });
    metrics.drops.inc({ lane, reason });
    const session = sessions.get(clientId);
    if (!session) return;
    session.refused++;
    session.sockets.control?.emit('fault', error);
  }

  const authenticate = async (socket: Socket, next: (err?: Error) => void) => {
    try {
      const auth = AuthPayload.safeParse(socket.handshake.auth ?? {});
      if (!auth.success)
        throw new AuthError(
          'invalid',
          `invalid auth payload: ${auth.error.issues[0]?.message ?? 'malformed'}`,
        );
      const principal = await verify(auth.data.token);
      const session = auth.data.session ?? socket.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16);
      const clientId = `${principal.id}#${session}`;
      // It becomes every command's header.sender, which holds at most 128 characters.
      if (clientId.length > 128)
        throw new AuthError('invalid', 'principal id too long: at most 64 characters');
      socket.data = { principal, clientId };
      next();
    } catch (error) {
      const reason = error instanceof AuthError ? error.reason : 'invalid';
      const message = error instanceof Error ? error.message : String(error);
      metrics.refusals.inc({ reason: 'auth' });
      const err = new Error(message) as Error & { data?: unknown };
      err.data = { code: 'E_AUTH', reason };
      next(err);
    }
  };

  const sessionFor = (socket: Socket): Session => {
    const { principal, clientId } = socket.data as { principal: Principal; clientId: string };
    let s = sessions.get(clientId);
    if (!s) {
      const now = clock.now();
      s = {
        id: clientId,
        principal,
        sockets: {},
        outboxes: {},
        offset: null,
        rtt: null,
        actuation: [],
        commandBucket: new TokenBucket(commandRate.rate, commandRate.burst, now),
        requestBucket: new TokenBucket(requestRate.rate, requestRate.burst, now),
        refused: 0,
      };
      sessions.set(clientId, s);
    }
    return s;
  };

  const attach = (lane: Lane) => (socket: Socket) => {
    const session = sessionFor(socket);
    const previous = session.sockets[lane];
    if (previous && previous !== socket) previous.disconnect(true);
    session.sockets[lane] = socket;
    const outbox = new Outbox(socket, clock, {
      sent: (l, n) => metrics.messages.inc({ lane: l, direction: 'out' }, n),
      stale: () => metrics.drops.inc({ lane: 'control', reason: 'stale' }),
      dropped: () => metrics.drops.inc({ lane: 'telemetry', reason: 'lagging' }),
    });
    session.outboxes[lane] = outbox;
    metrics.clients.inc({ lane, role: session.principal.role });
    let packetSize = 0;
    socket.conn.on('packet', (p: { data?: unknown }) => {
      packetSize = packetBytes(p.data);
    });

    /** Runs a handler safely: nothing a client sends can throw out of here. */
    const on = (
      event: string,
      handler: (args: unknown[], reply: (answer: unknown) => void) => void | Promise<void>,
    ) => {
      socket.on(event, (...raw: unknown[]) => {
        const ack = typeof raw.at(-1) === 'function' ? (raw.pop() as (a: unknown) => void) : undefined;
        const reply = (answer: unknown) => {
          if (ack) ack(answer);
          else if (answer && typeof answer === 'object' && 'ok' in answer && answer.ok === false)
            socket.emit('fault', (answer as unknown as { error: WireError }).error);
        };
        try {
          if (packetSize > maxPayload) {
            metrics.refusals.inc({ reason: 'payload' });
            reply({
              ok: false,
              error: fault(
                'E_PAYLOAD_TOO_LARGE',
                `message of ${packetSize} bytes exceeds the limit of ${maxPayload} bytes`,
              ),
            });
            return;
          }
          const bucket = event === 'pub' ? session.commandBucket : session.requestBucket;
          if (!bucket.take(clock.now())) {
            metrics.refusals.inc({ reason: 'rate' });
            metrics.drops.inc({ lane, reason: 'rate' });
            session.refused++;
            reply({
              ok: false,
              error: fault(
                'E_RATE_LIMITED',
                `too many messages: the limit is ${bucket.rate}/s (burst ${bucket.burst})`,
              ),
            });
            return;
          }
          void Promise.resolve(handler(raw, reply)).catch((error: unknown) => {
            log.error('handler failed', { event, client: session.id, error: String(error) });
            reply({ ok: false, error: fault('E_INTERNAL', 'the gateway could not handle this message') });
          });
        } catch (error) {
          log.error('handler failed', { event, client: session.id, error: String(error) });
          reply({ ok: false, error: fault('E_INTERNAL', 'the gateway could not handle this message') });
        }
      });
    };

    const parse = <T>(
      schema: z.ZodType<T>,
      value: unknown,
      what: string,
    ): { ok: true; value: T } | { ok: false; error: WireError } => {
      const r = schema.safeParse(value);
      if (r.success) return { ok: true, value: r.data };
      const issue = r.error.issues[0];
      const field = issue?.path.join('.') || '(root)';
      return {
        ok: false,
        error: fault(
          'E_BAD_REQUEST',
          `invalid ${what}: ${field}: ${issue?.message.replace(/^Invalid input: /, '') ?? 'malformed'}`,
          { field },
        ),
      };
    };

    const topicOf = (
      name: unknown,
      verb: 'subscribe' | 'publish',
    ): { ok: true; topic: Topic } | { ok: false; error: WireError } => {
      if (typeof name !== 'string')
        return { ok: false, error: fault('E_BAD_REQUEST', 'topic must be a string', { field: 'topic' }) };
      const topic = topics.get(name);
      if (!topic)
        return {
          ok: false,
          error: fault('E_UNKNOWN_TOPIC', `unknown topic ${name.slice(0, 128)}`, {
            topic: name.slice(0, 128),
          }),
        };
      const rules = acl[session.principal.role];
      if (!allowed(verb === 'subscribe' ? rules.subscribe : rules.publish, topic.name)) {
        metrics.refusals.inc({ reason: 'acl' });
        return {
          ok: false,
          error: fault('E_FORBIDDEN', `role ${session.principal.role} may not ${verb} ${topic.name}`, {
            topic: topic.name,
          }),
        };
      }
      const topicLane: Lane = topic.lane === 'control' ? 'control' : 'telemetry';
      if (topicLane !== lane) {
        return {
          ok: false,
          error: fault('E_WRONG_LANE', `${topic.name} travels on the ${topicLane} connection`, {
            topic: topic.name,
          }),
        };
      }
      return { ok: true, topic };
    };

    on('pub', ([name, message], reply) => {
      metrics.messages.inc({ lane, direction: 'in' });
      const t = topicOf(name, 'publish');
      if (!t.ok) return reply({ ok: false, error: t.error } satisfies Ack);
      const checked = checkMessage(t.topic, message);
      if (!checked.ok) {
        metrics.refusals.inc({ reason: 'validation' });
        const e = checked.error;
        return reply({
          ok: false,
          error: fault('E_VALIDATION', e.message, { topic: t.topic.name, field: e.field }),
        } satisfies Ack);
      }
      // The gateway vouches for the sender: a client cannot speak for another.
      const msg = checked.value as { header: Header };
      msg.header = { ...msg.header, sender: session.id };
      reply(route(session, t.topic, msg));
    });

    on('sub', ([request], reply) => {
      const r = parse(SubscribeRequest, request, 'subscribe request');
      if (!r.ok) return reply({ ok: false, error: r.error } satisfies Ack);
      const t = topicOf(r.value.topic, 'subscribe');
      if (!t.ok) return reply({ ok: false, error: t.error } satisfies Ack);
      if (!outbox.has(t.topic.name)) {
        outbox.open(t.topic, r.value.depth ?? t.topic.depth);
        want(t.topic);
        const last = lastSample.get(t.topic.name);
        if (last !== undefined) outbox.push(t.topic.name, { message: last, bytes: packMessage(last) });
      }
      reply({ ok: true } satisfies Ack);
    });

    on('unsub', ([request], reply) => {
      const r = parse(UnsubscribeRequest, request, 'unsubscribe request');
      if (!r.ok) return reply({ ok: false, error: r.error } satisfies Ack);
      if (outbox.close(r.value.topic)) unwant(r.value.topic);
      reply({ ok: true } satisfies Ack);
    });

    if (lane === 'telemetry') {
      // Media signalling: a request answered to this client only.
      on('req', async ([name, body], reply) => {
        if (typeof name !== 'string' || !name.startsWith('/media/')) {
          return reply({
            ok: false,
            error: fault('E_BAD_REQUEST', 'req is for /media/* topics', { field: 'topic' }),
          } satisfies Ack);
        }
        if (!allowed(acl[session.principal.role].subscribe, name)) {
          metrics.refusals.inc({ reason: 'acl' });
          return reply({
            ok: false,
            error: fault('E_FORBIDDEN', `role ${session.principal.role} may not use ${name}`, {
              topic: name,
            }),
          } satisfies Ack);
        }
        if (!options.media)
          return reply({
            ok: false,
            error: fault('E_NO_MEDIA', 'this gateway serves no media', { topic: name }),
          } satisfies Ack);
        try {
          const answer = await options.media.request(session.id, name, body);
          reply({ ok: true, answer });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const code = (error as { code?: unknown }).code;
          reply({
            ok: false,
            error: fault(typeof code === 'string' ? code : 'E_MEDIA', message, { topic: name }),
          } satisfies Ack);
        }
      });
    }

    if (lane === 'control') {
      on('lease', async ([request], reply) => {
        const r = parse(LeaseRequest, request, 'lease request');
        if (!r.ok)
          return reply({ granted: false, reason: 'invalid', holder: backplane.holder } satisfies LeaseAnswer);
        const client = { id: session.id, role: session.principal.role };
        if (r.value.action === 'release') {
          await backplane.release(session.id);
          return reply({ granted: false, reason: 'held', holder: backplane.holder } satisfies LeaseAnswer);
        }
        const d = await backplane.acquire(client, r.value.action === 'takeover');
        if (!d.granted) metrics.refusals.inc({ reason: 'lease' });
        reply(d satisfies LeaseAnswer);
      });

      on('time', ([probe], reply) => {
        const t1 = clock.now();
        const r = parse(TimeProbe, probe, 'time probe');
        if (!r.ok) return reply({ ok: false, error: r.error } satisfies Ack);
        if (r.value.offset !== undefined) session.offset = r.value.offset;
        if (r.value.rtt !== undefined) {
          session.rtt = r.value.rtt;
          metrics.rtt.observe(r.value.rtt / 1000);
        }
        reply({ t1, t2: clock.now() });
      });
    }

    // Anything else gets an answer too, rather than silence.
    const known = new Set(
      lane === 'control' ? ['pub', 'sub', 'unsub', 'lease', 'time'] : ['pub', 'sub', 'unsub', 'req'],
    );
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && known.has(event)) return;
      metrics.refusals.inc({ reason: 'unknown-event' });
      const error = fault(
        'E_UNKNOWN_EVENT',
        `unknown event ${String(event).slice(0, 64)} on the ${lane} connection`,
      );
      const ack = args.at(-1);
      if (typeof ack === 'function') ack({ ok: false, error } satisfies Ack);
      else socket.emit('fault', error);
    });

    socket.on('disconnect', (reason) => {
      metrics.clients.dec({ lane, role: session.principal.role });
      outbox.shutdown();
      for (const t of outbox.topics) unwant(t);
      if (session.sockets[lane] === socket) {
        delete session.sockets[lane];
        delete session.outboxes[lane];
      }
      if (lane === 'control') void backplane.drop(session.id);
      if (!session.sockets.control && !session.sockets.telemetry) {
        sessions.delete(session.id);
        options.media?.release(session.id);
      }
      log.debug('client left', { client: session.id, lane, reason });
    });

    const welcome: Welcome = {
      protocol: GATEWAY_PROTOCOL,
      clientId: session.id,
      role: session.principal.role,
      lease: backplane.holder,
      estop: backplane.estop,
    };
    socket.emit('welcome', welcome);
    log.debug('client joined', { client: session.id, lane, role: session.principal.role });
  };

  /** Where a valid command goes: the e-stop, the safety gate, or straight on. */
  function route(session: Session, topic: Topic, msg: { header: Header }): Ack {
    const role = session.principal.role;
    if (topic.name === Topics.estop.name) {
      const m = msg as unknown as { engage: boolean; reason?: string };
      if (role === 'viewer')
        return {
          ok: false,
          error: fault('E_FORBIDDEN', 'viewers cannot use the e-stop', { topic: topic.name }),
        };
      if (m.engage) void backplane.engage(session.id, m.reason);
      else void backplane.clear(session.id);
      forward(topic, msg);
      return { ok: true };
    }
    if (topic.lane === 'control') {
      if (backplane.holder?.id !== session.id) {
        refuse(
          session.id,
          'lease',
          fault(
            'E_NOT_HOLDER',
            `command refused: ${backplane.holder ? `${backplane.holder.id} holds control` : 'request control first'}`,
            { topic: topic.name },
          ),
        );
        return {
          ok: false,
          error: fault('E_NOT_HOLDER', 'command refused: you do not hold the control lease', {
            topic: topic.name,
          }),
        };
      }
      backplane.touch(session.id);
      const input = inputs.get(topic.name);
      if (input) {
        input.next(msg);
        return { ok: true };
      }
      // Other commands (actions, custom topics): deadline and e-stop, no deadman.
      const verdict = checkDeadline(msg.header, clock.now(), { ttl: topic.ttl, offset: session.offset ?? 0 });
      if (!verdict.fresh)
        return {
          ok: false,
          error: fault('E_STALE', `command dropped: ${Math.round(verdict.age)} ms old, past its deadline`, {
            topic: topic.name,
          }),
        };
      if (latch.latched)
        return {
          ok: false,
          error: fault('E_ESTOP', 'command refused: the e-stop is engaged', { topic: topic.name }),
        };
      forward(topic, msg);
      return { ok: true };
    }
    // Media signalling and (where allowed) telemetry from clients go straight to the app.
    try {
      transport.publish(topic, msg);
    } catch (error) {
      return {
        ok: false,
        error: fault('E_INTERNAL', `the app refused the message: ${String(error)}`, { topic: topic.name }),
      };
    }
    if (topic.lane === 'telemetry') backplane.relay({ lane: 'telemetry', topic: topic.name, message: msg });
    return { ok: true };
  }

  for (const lane of ['control', 'telemetry'] as const) {
    const ns = io.of(NAMESPACES[lane]);
    ns.use((socket, next) => void authenticate(socket, next));
    ns.on('connection', attach(lane));
  }

  // Each client hears about its own link once a second.
  const healthTimer = setInterval(() => {
    for (const s of sessions.values()) {
      const socket = s.sockets.control;
      if (!socket) continue;
      const sorted = [...s.actuation].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
      const health: LinkHealth = {
        rtt: s.rtt,
        offset: s.offset,
        inputToActuation: sorted.length ? { p50: q(0.5), p99: q(0.99), count: sorted.length } : null,
        drops: { telemetry: s.outboxes.telemetry?.dropped() ?? 0, control: s.refused },
        lease: backplane.holder,
      };
      socket.emit('health', health);
    }
  }, 1_000);
  healthTimer.unref();

  let url = '';
  const gateway: Gateway = {
    async listen(port = 0, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const a = http.address() as AddressInfo;
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      log.info('gateway listening', { url });
      return url;
    },
    get url() {
      return url;
    },
    http,
    metrics,
    clients: () =>
      [...sessions.values()].map((s) => ({
        id: s.id,
        role: s.principal.role,
        lanes: Object.keys(s.sockets) as Lane[],
      })),
    dropConnections(clientId) {
      for (const lane of ['control', 'telemetry'] as const) {
        for (const socket of io.of(NAMESPACES[lane]).sockets.values()) {
          if (clientId === undefined || (socket.data as { clientId?: string }).clientId === clientId)
            socket.conn.close();
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(healthTimer);
      for (const g of gates) g.close();
      for (const i of inputs.values()) i.complete();
      for (const s of subscriptions) s.unsubscribe();
      for (const d of demand.values()) d.sub.unsubscribe();
      demand.clear();
      const stopped = new Promise<void>((resolve) => io.close(() => resolve()));
      // A client that stopped reading would hold its connection open for the WebSocket close
      // handshake's timeout: cut what is left.
      for (const socket of connections) socket.destroy();
      await stopped;
      await backplane.close();
      latch.close();
      sessions.clear();
    },
  };
  return gateway;
}
