import type { IncomingMessage } from 'node:http';
import type { Subscription } from 'rxjs';
import { Server } from 'socket.io';
import { NAMESPACES } from '../protocol.js';
import { serverParser } from '../wire-parser.js';
import { attachConnection } from './connection.js';
import type { GatewayContext } from './context.js';
import { CLIENT_EVENTS } from './handlers.js';
import { addressOf, type Doorman } from './handshake.js';
import type { HttpSurface } from './http-surface.js';
import type { Session } from './session.js';

/** What the socket.io side needs beyond the context. */
export interface SocketServerOptions {
  doorman: Doorman;
  origins: readonly string[] | undefined;
  polling: boolean;
  redis: { url: string; prefix?: string } | undefined;
}

/** An engine.io connection, as far as the gateway touches it. */
interface EngineConnection {
  request: IncomingMessage;
  once(event: 'close', listener: (reason: string) => void): unknown;
  telekitDoor?: ReturnType<Doorman['opened']>;
}

/**
 * socket.io on the gateway's HTTP server: the strict parser, the doorman before every handshake and
 * upgrade, the two lanes' namespaces (the default one refuses everyone), each authenticated
 * connection attached to its session, lease and e-stop changes told to every control connection,
 * and with Redis the adapter that carries broadcasts between instances.
 */
export async function createSocketServer(
  ctx: GatewayContext,
  http: HttpSurface,
  options: SocketServerOptions,
): Promise<{ io: Server; close(): Promise<void> }> {
  const { doorman, origins, redis } = options;
  const io = new Server(http.server, {
    parser: serverParser(ctx.maxPayloadBytes, CLIENT_EVENTS),
    serveClient: false,
    transports: options.polling ? ['polling', 'websocket'] : ['websocket'],
    // A hard ceiling on one frame (engine.io closes the connection above it); the per-message limit
    // answers with a clear error well before it.
    maxHttpBufferSize: Math.max(ctx.maxPayloadBytes * 4, 65_536),
    pingInterval: 5_000,
    pingTimeout: 5_000,
    connectTimeout: ctx.limits.authTimeoutMs,
    allowRequest: doorman.allowRequest,
    ...(origins ? { cors: { origin: [...origins] } } : {}),
  });
  // Every upgrade passes the doorman before socket.io sees it.
  http.adoptUpgradeListeners();
  io.engine.on('connection', (conn: EngineConnection) => {
    const door = doorman.opened(addressOf(conn.request));
    conn.telekitDoor = door;
    const tcp = conn.request.socket;
    conn.once('close', (reason) => {
      door.closed();
      // A frame over the ceiling or a protocol violation: nothing more is read from that peer.
      if (reason === 'transport error' || reason === 'parse error') return void tcp.destroy();
      // Any other close: the WebSocket's closing handshake gets a second, not ws's thirty, while a
      // peer that does not close could keep pushing bytes the gateway must read.
      setTimeout(() => tcp.destroy(), 1_000).unref();
    });
  });

  const subscriptions: Subscription[] = [];
  let quitRedis: (() => Promise<unknown>) | undefined;
  if (redis) {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { createClient } = await import('redis');
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: `${redis.prefix ?? 'telekit'}#socket.io` }));
    quitRedis = () => Promise.allSettled([pub.quit(), sub.quit()]);
  }

  // The default namespace serves nothing: every connection to it is refused, saying where to go.
  io.of('/').use((_socket, next) => {
    const err = new Error('no such namespace: connect to /control or /telemetry') as Error & {
      data?: unknown;
    };
    err.data = { code: 'E_NAMESPACE' };
    next(err);
  });
  // A session that earned a cut-off takes its principal's other sessions with it: a token that
  // abuses is kept out as a whole, not one session at a time.
  const hooks = {
    penalise: (s: Session) => doorman.penalise(s, ctx.clock.now()),
  };
  for (const lane of ['control', 'telemetry'] as const) {
    const ns = io.of(NAMESPACES[lane]);
    ns.use((socket, next) => void doorman.authenticate(lane)(socket, next));
    ns.use((socket, next) => {
      (socket.conn as unknown as EngineConnection).telekitDoor?.authenticated();
      next();
    });
    ns.on('connection', attachConnection(ctx, lane, hooks));
  }

  const control = io.of(NAMESPACES.control);
  subscriptions.push(
    ctx.backplane.estop$.subscribe((s) => control.local.emit('estop', s)),
    ctx.backplane.lease$.subscribe((holder) => {
      ctx.metrics.setLease(holder?.name);
      control.local.emit('lease', holder);
    }),
  );

  return {
    io,
    async close() {
      for (const s of subscriptions) s.unsubscribe();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await quitRedis?.();
    },
  };
}
