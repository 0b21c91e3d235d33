import {
  type Logger,
  type MediaSignalling,
  parseMessage,
  type StreamInfo,
  TelekitError,
  type Topic,
  Topics,
} from '@telekit/core';
import type { types } from 'mediasoup';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sfu } from './sfu.js';
import type { StreamMonitor } from './stream-monitor.js';

/**
 * What one viewer, and all viewers together, may hold in the SFU. A request past a limit is refused
 * with `E_MEDIA_LIMIT`, naming the limit; nothing is created.
 */
export interface MediaLimits {
  /** WebRTC transports one client holds at once. Default 4. */
  transportsPerClient?: number;
  /** Consumers on one transport (a viewer watches each stream once per transport). Default 4. */
  consumersPerTransport?: number;
  /**
   * WebRTC transports of all clients together: a bound on the SFU's ports and memory however many
   * clients connect. Default 1000 (each takes a UDP and a TCP port of the worker's range).
   */
  transports?: number;
}

/** The limits in force when none are given. */
export const DEFAULT_MEDIA_LIMITS: Readonly<Required<MediaLimits>> = {
  transportsPerClient: 4,
  consumersPerTransport: 4,
  transports: 1_000,
};

/** Options of {@link createMediaSignalling}. */
export interface MediaSignallingOptions {
  /** The SFU whose transports and consumers the requests make. */
  sfu: Sfu;
  /** Where `/media/stats` reads its figures. */
  monitor: StreamMonitor;
  /** What `/media/streams` answers. */
  streams: readonly StreamInfo[];
  /** Each stream's HLS directory, for the streams that have one. */
  hlsDirs: ReadonlyMap<string, string>;
  limits?: MediaLimits;
  /** Where the limit figures go (the monitor's, which the gateway appends to `/metrics`). */
  registry: Registry;
  logger: Logger;
}

/** A client's transports, and those being made for it. */
interface Client {
  readonly transports: Set<string>;
  pending: number;
}

/** Context a handler gets: the asking client and its validated body. */
type Handler<T> = { topic: Topic<T>; handle: (clientId: string, body: T) => Promise<unknown> | unknown };

/** One entry of the handler table, its body type checked against its topic. */
const handler = <T>(topic: Topic<T>, handle: Handler<T>['handle']): Handler<unknown> =>
  ({ topic, handle }) as Handler<unknown>;

/**
 * Media signalling as core's `MediaSignalling`: one handler per `/media/*` topic in a table, from
 * which the validation and the "unknown request" answer derive. For each request, in this order:
 *
 * 1. the topic must be in the table (else `E_MEDIA_SIGNALLING` listing the known ones);
 * 2. the body is validated with the topic's schema from `@telekit/core` (else `E_VALIDATION` naming
 *    the field), before anything reads it;
 * 3. a transport named in the body must belong to the asking client (`E_FORBIDDEN` otherwise);
 * 4. limits are checked before anything is created (`E_MEDIA_LIMIT` naming the limit);
 * 5. the SFU acts; its own refusals (bad `dtlsParameters` or `rtpCapabilities`) name the field.
 *
 * `request` only ever rejects (never throws synchronously); `release` never throws. A client that
 * leaves while one of its transports is being made gets that transport closed as soon as it exists.
 * `nvencMedia()` makes one and provides it under `MediaSignallingToken`; the gateway calls it.
 *
 * @example
 * ```ts
 * import { MediaSignallingToken } from '@telekit/core';
 * const media = app.resolve(MediaSignallingToken); // an app running nvencMedia({ limits: { transportsPerClient: 2 } })
 * await media.request('client-1', '/media/transport', {});
 * await media.request('client-1', '/media/transport', {});
 * await media.request('client-1', '/media/transport', {}); // rejects: E_MEDIA_LIMIT [limit:transportsPerClient]
 * media.release('client-1'); // its transports, consumers and ports are freed
 * ```
 */
export function createMediaSignalling(options: MediaSignallingOptions): MediaSignalling {
  const { sfu, monitor, streams, hlsDirs, logger } = options;
  const limits = { ...DEFAULT_MEDIA_LIMITS, ...options.limits };
  const clients = new Map<string, Client>();
  const owners = new Map<string, string>();
  let pendingTransports = 0;

  const refusals = new Counter({
    name: 'telekit_media_limit_refusals_total',
    help: 'Media requests refused for a limit, by limit',
    labelNames: ['limit'],
    registers: [options.registry],
  });
  new Gauge({
    name: 'telekit_media_transports',
    help: 'Open WebRTC viewer transports',
    registers: [options.registry],
    collect() {
      this.set(sfu.transportCount);
    },
  });

  const limit = (name: keyof MediaLimits, what: string): never => {
    refusals.inc({ limit: name });
    throw new TelekitError('E_MEDIA_LIMIT', `${what}: at most ${limits[name]}`, {
      context: { limit: name, max: limits[name] },
    });
  };

  const own = (clientId: string, transport: string) => {
    const owner = owners.get(transport);
    if (owner === undefined)
      throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown transport', {
        context: { transport: transport.slice(0, 64) },
      });
    if (owner !== clientId)
      throw new TelekitError('E_FORBIDDEN', 'that transport belongs to another viewer', {
        context: { transport: transport.slice(0, 64) },
      });
  };

  const createTransport = async (clientId: string) => {
    const client = clients.get(clientId) ?? { transports: new Set<string>(), pending: 0 };
    clients.set(clientId, client);
    if (client.transports.size + client.pending >= limits.transportsPerClient)
      limit('transportsPerClient', 'too many media transports for this client');
    if (sfu.transportCount + pendingTransports >= limits.transports)
      limit('transports', 'too many media transports on this server');
    client.pending++;
    pendingTransports++;
    let id: string | undefined;
    try {
      const t = await sfu.createViewerTransport(() => {
        if (id === undefined) return;
        owners.delete(id);
        client.transports.delete(id);
      });
      id = t.id;
      if (clients.get(clientId) !== client) {
        // The client left while its transport was being made.
        sfu.closeTransport(t.id);
        throw new TelekitError('E_MEDIA_SIGNALLING', 'the client left before its transport was ready');
      }
      owners.set(t.id, clientId);
      client.transports.add(t.id);
      return t;
    } finally {
      client.pending--;
      pendingTransports--;
    }
  };

  const consumersOf = (clientId: string) =>
    new Set(
      sfu
        .consumers()
        .filter((c) => owners.get(sfu.transportOfConsumer(c.id) ?? '') === clientId)
        .map((c) => c.id),
    );

  const handlers: Record<string, Handler<unknown>> = {
    '/media/streams': handler(Topics.mediaStreams, () => ({ streams })),
    '/media/join': handler(Topics.mediaJoin, (_, b) => {
      if (!sfu.stream(b.stream))
        throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', { context: { stream: b.stream } });
      return { rtpCapabilities: sfu.rtpCapabilities };
    }),
    '/media/transport': handler(Topics.mediaTransport, (clientId) => createTransport(clientId)),
    '/media/connect': handler(Topics.mediaConnect, async (clientId, b) => {
      own(clientId, b.transport);
      await sfu.connect(b.transport, b.dtlsParameters as unknown as types.DtlsParameters);
      return {};
    }),
    '/media/consume': handler(Topics.mediaConsume, (clientId, b) => {
      own(clientId, b.transport);
      if (sfu.consumerCount(b.transport) >= limits.consumersPerTransport)
        limit('consumersPerTransport', 'too many consumers on this transport');
      return sfu.consume(b.transport, b.stream, b.rtpCapabilities as unknown as types.RtpCapabilities);
    }),
    '/media/resume': handler(Topics.mediaResume, async (clientId, b) => {
      const transport = sfu.transportOfConsumer(b.consumer);
      if (transport) own(clientId, transport);
      await sfu.resume(b.consumer);
      return {};
    }),
    '/media/stats': handler(Topics.mediaStats, (clientId) => ({
      streams: monitor.streams(),
      viewers: monitor.viewers(consumersOf(clientId)),
    })),
  };

  return {
    async request(clientId, topic, body) {
      const h = typeof topic === 'string' && Object.hasOwn(handlers, topic) ? handlers[topic] : undefined;
      if (!h)
        throw new TelekitError(
          'E_MEDIA_SIGNALLING',
          `unknown media request ${String(topic).slice(0, 64)}; known: ${Object.keys(handlers).join(', ')}`,
        );
      if (typeof clientId !== 'string' || clientId === '')
        throw new TelekitError('E_MEDIA_SIGNALLING', 'a media request needs the asking client', {
          context: { field: 'clientId' },
        });
      return h.handle(clientId, parseMessage(h.topic, body ?? {}));
    },
    release(clientId) {
      const client = clients.get(clientId);
      if (!client) return;
      clients.delete(clientId);
      for (const transport of client.transports) {
        owners.delete(transport);
        try {
          sfu.closeTransport(transport);
        } catch (error) {
          logger.warn('closing a media transport failed', { error: String(error) });
        }
      }
      client.transports.clear();
    },
    hlsDirectory: (stream) => hlsDirs.get(stream),
    metrics: () => options.registry.metrics(),
  };
}
