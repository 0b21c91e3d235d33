import { type Logger, parseMessage, TelekitError, type Topic, Topics } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import type { ServerFrame, StreamInfo } from '@telekit/core/schemas';
import type { types } from 'mediasoup';
import type { Registry } from 'prom-client';
import { MediaClients } from './media-clients.js';
import type { MediaDemand } from './media-demand.js';
import { MediaHolds } from './media-holds.js';
import type { Sfu } from './sfu.js';
import type { StreamMonitor } from './stream-monitor.js';
import type { VideoTimeline } from './video-timeline.js';

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
  const holds = new MediaHolds({
    ...(options.demand ? { demand: options.demand } : {}),
    joinHoldMs: options.joinHoldMs ?? 15_000,
    hlsHoldMs: options.hlsHoldMs ?? 6_000,
  });
  const clients = new MediaClients({
    sfu: options.sfu,
    limits: { ...DEFAULT_MEDIA_LIMITS, ...options.limits },
    registry: options.registry,
    logger: options.logger,
  });
  const handlers = signallingHandlers(options, clients, holds);

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
      holds.endJoins(clientId);
      clients.release(clientId);
    },
    hlsDirectory(stream) {
      const dir = options.hlsDirs.get(stream);
      // A player fetches the playlist about once a segment: each request holds the stream a while.
      if (dir) holds.hls(stream);
      return dir;
    },
    close() {
      holds.close();
    },
    metrics: () => options.registry.metrics(),
  };
}

/** The handler table: one small function per `/media/*` topic, after the checks `request` makes. */
function signallingHandlers(
  options: MediaSignallingOptions,
  clients: MediaClients,
  holds: MediaHolds,
): Record<string, Handler<unknown>> {
  const { sfu, monitor, streams } = options;
  return {
    '/media/streams': handler(Topics.mediaStreams, () => ({ streams })),
    '/media/join': handler(Topics.mediaJoin, (clientId, b) => {
      if (!sfu.stream(b.stream))
        throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', { context: { stream: b.stream } });
      // The encoder and its source start now, while the viewer sets its transport up.
      holds.join(clientId, b.stream);
      return { rtpCapabilities: sfu.rtpCapabilities };
    }),
    '/media/transport': handler(Topics.mediaTransport, (clientId) => clients.createTransport(clientId)),
    '/media/connect': handler(Topics.mediaConnect, async (clientId, b) => {
      clients.own(clientId, b.transport);
      await sfu.connect(b.transport, b.dtlsParameters as unknown as types.DtlsParameters);
      return {};
    }),
    '/media/consume': handler(Topics.mediaConsume, async (clientId, b) => {
      clients.own(clientId, b.transport);
      clients.admitConsumer(b.transport);
      const info = await sfu.consume(
        b.transport,
        b.stream,
        b.rtpCapabilities as unknown as types.RtpCapabilities,
      );
      const consumer = sfu.consumers().find((c) => c.id === info.id)?.consumer;
      if (consumer) {
        // The consumer holds its stream for as long as it lives; the join's hold ends.
        holds.consumer(b.stream, clientId, consumer);
        options.onConsumer?.(b.stream, consumer);
      }
      holds.endJoin(clientId, b.stream);
      return info;
    }),
    '/media/resume': handler(Topics.mediaResume, async (clientId, b) => {
      const transport = sfu.transportOfConsumer(b.consumer);
      if (transport) clients.own(clientId, transport);
      await sfu.resume(b.consumer);
      holds.resumed(b.consumer, sfu.consumers().find((c) => c.id === b.consumer)?.consumer);
      return {};
    }),
    '/media/stats': handler(Topics.mediaStats, (clientId) => {
      const mine = clients.consumersOf(clientId);
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
}
