import { type Logger, parseMessage, TelekitError, type Topic, Topics } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import type { StreamInfo } from '@telekit/core/schemas';
import type { types } from 'mediasoup';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MediaDemand, Release } from './media-demand.js';
import type { Sfu } from './sfu.js';
import type { StreamMonitor } from './stream-monitor.js';
import type { ServerFrame, VideoTimeline } from './video-timeline.js';

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
  /**
   * Who wants which stream: a viewer holds a stream on standby from its `/media/join` (for at most
   * `joinHoldMs` without a consumer) and through its consumer until it resumes it, then fully for as
   * long as its consumer lives; an HLS client fully for `hlsHoldMs` after each file it fetches.
   * Without it, streams are not held by anyone here.
   */
  demand?: MediaDemand;
  /** Each stream's frame timeline: `/media/stats` gives a viewer its own frames' server times. */
  timelines?: ReadonlyMap<string, VideoTimeline>;
  /** Told each consumer made, with its stream (the packet traces follow it). */
  onConsumer?: (stream: string, consumer: types.Consumer) => void;
  /** How long a join holds its stream without a consumer, ms. Default 15 000. */
  joinHoldMs?: number;
  /** How long one HLS request holds its stream, ms. Default 6 000. */
  hlsHoldMs?: number;
}

/**
 * One viewer's frames as the server saw them, in `/media/stats` (to the viewer only): the server's
 * times of each frame it was sent in the last {@link STATS_FRAMES_MS}, by RTP timestamp.
 */
export interface ViewerFrames {
  readonly consumer: string;
  readonly stream: string;
  readonly frames: readonly ServerFrame[];
}

/** How far back `/media/stats` gives a viewer its frames' server times, ms. */
export const STATS_FRAMES_MS = 3_000;

/** A hold that ends by itself unless renewed. */
interface TimedHold {
  readonly release: Release;
  timer: ReturnType<typeof setTimeout>;
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
export function createMediaSignalling(options: MediaSignallingOptions): MediaSignalling & { close(): void } {
  const { sfu, monitor, streams, hlsDirs, logger, demand } = options;
  const joinHoldMs = options.joinHoldMs ?? 15_000;
  const hlsHoldMs = options.hlsHoldMs ?? 6_000;
  /** Holds from `/media/join`, by client and stream, until a consumer takes over (or time runs out). */
  const joinHolds = new Map<string, Map<string, TimedHold>>();
  /** Holds from HLS requests, by stream. */
  const hlsHolds = new Map<string, TimedHold>();
  /** Consumers on standby until their viewer resumes them. */
  const consumerHolds = new Map<string, { stream: string; who: string; standby: Release }>();
  const timedHold = (release: Release, ms: number, onEnd: () => void): TimedHold => {
    const timer = setTimeout(() => {
      onEnd();
      release();
    }, ms);
    timer.unref?.();
    return { release, timer };
  };
  const endJoinHold = (clientId: string, stream: string) => {
    const holds = joinHolds.get(clientId);
    const hold = holds?.get(stream);
    if (!hold) return;
    clearTimeout(hold.timer);
    holds!.delete(stream);
    if (holds!.size === 0) joinHolds.delete(clientId);
    hold.release();
  };
  const holdForJoin = (clientId: string, stream: string) => {
    if (!demand) return;
    let holds = joinHolds.get(clientId);
    if (!holds) {
      holds = new Map();
      joinHolds.set(clientId, holds);
    }
    const held = holds.get(stream);
    if (held) {
      held.timer.refresh();
      return;
    }
    holds.set(
      stream,
      timedHold(demand.standby(stream, `webrtc:${clientId}`), joinHoldMs, () => {
        holds!.delete(stream);
        if (holds!.size === 0) joinHolds.delete(clientId);
      }),
    );
  };
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
    '/media/join': handler(Topics.mediaJoin, (clientId, b) => {
      if (!sfu.stream(b.stream))
        throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', { context: { stream: b.stream } });
      // The encoder and its source start now, while the viewer sets its transport up.
      holdForJoin(clientId, b.stream);
      return { rtpCapabilities: sfu.rtpCapabilities };
    }),
    '/media/transport': handler(Topics.mediaTransport, (clientId) => createTransport(clientId)),
    '/media/connect': handler(Topics.mediaConnect, async (clientId, b) => {
      own(clientId, b.transport);
      await sfu.connect(b.transport, b.dtlsParameters as unknown as types.DtlsParameters);
      return {};
    }),
    '/media/consume': handler(Topics.mediaConsume, async (clientId, b) => {
      own(clientId, b.transport);
      if (sfu.consumerCount(b.transport) >= limits.consumersPerTransport)
        limit('consumersPerTransport', 'too many consumers on this transport');
      const info = await sfu.consume(
        b.transport,
        b.stream,
        b.rtpCapabilities as unknown as types.RtpCapabilities,
      );
      const consumer = sfu.consumers().find((c) => c.id === info.id)?.consumer;
      if (consumer) {
        // The consumer holds its stream for as long as it lives; the join's hold ends.
        if (demand) {
          // On standby until the viewer resumes it (its transport and consumer are ready), then
          // fully: the source starts then, so the fresh encoder's first frame — a keyframe — comes
          // after the viewer can take it.
          const standby = demand.standby(b.stream, `webrtc:${clientId}`);
          consumer.observer.once('close', () => {
            standby();
            consumerHolds.delete(consumer.id);
          });
          consumerHolds.set(consumer.id, { stream: b.stream, who: `webrtc:${clientId}`, standby });
        }
        options.onConsumer?.(b.stream, consumer);
      }
      endJoinHold(clientId, b.stream);
      return info;
    }),
    '/media/resume': handler(Topics.mediaResume, async (clientId, b) => {
      const transport = sfu.transportOfConsumer(b.consumer);
      if (transport) own(clientId, transport);
      await sfu.resume(b.consumer);
      const held = consumerHolds.get(b.consumer);
      const consumer = sfu.consumers().find((c) => c.id === b.consumer)?.consumer;
      if (held && demand && consumer && !consumer.closed) {
        consumerHolds.delete(b.consumer);
        consumer.observer.once('close', demand.acquire(held.stream, held.who));
        held.standby();
      }
      return {};
    }),
    '/media/stats': handler(Topics.mediaStats, (clientId) => {
      const mine = consumersOf(clientId);
      const since = Date.now() - STATS_FRAMES_MS;
      const frames: ViewerFrames[] = [];
      for (const c of sfu.consumers()) {
        if (!mine.has(c.id)) continue;
        const timeline = options.timelines?.get(c.stream);
        if (timeline)
          frames.push({ consumer: c.id, stream: c.stream, frames: timeline.framesFor(c.id, since) });
      }
      return { streams: monitor.streams(), viewers: monitor.viewers(mine), frames };
    }),
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
      for (const stream of [...(joinHolds.get(clientId)?.keys() ?? [])]) endJoinHold(clientId, stream);
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
    hlsDirectory(stream) {
      const dir = hlsDirs.get(stream);
      // A player fetches the playlist about once a segment: each request holds the stream a while.
      if (dir && demand) {
        const held = hlsHolds.get(stream);
        if (held) held.timer.refresh();
        else
          hlsHolds.set(
            stream,
            timedHold(demand.acquire(stream, 'hls'), hlsHoldMs, () => hlsHolds.delete(stream)),
          );
      }
      return dir;
    },
    close() {
      for (const clientId of [...joinHolds.keys()])
        for (const stream of [...(joinHolds.get(clientId)?.keys() ?? [])]) endJoinHold(clientId, stream);
      for (const hold of hlsHolds.values()) {
        clearTimeout(hold.timer);
        hold.release();
      }
      hlsHolds.clear();
    },
    metrics: () => options.registry.metrics(),
  };
}
