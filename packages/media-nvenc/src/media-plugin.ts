import {
  type HealthReport,
  MediaSignallingToken,
  type MediaSource,
  MediaSourcesToken,
  type Plugin,
  TelekitError,
} from '@telekit/core';
import type { StreamInfo } from '@telekit/core/schemas';
import type { types } from 'mediasoup';
import { AccessUnitTapToken, createAccessUnitTap } from './access-unit-tap.js';
import type { EncoderName, EncoderProfile, profiles } from './encoder-args.js';
import type { H264Source } from './h264-source.js';
import { createMediaDemand, MediaDemandToken } from './media-demand.js';
import { createMediaSignalling, type MediaLimits } from './media-signalling.js';
import { createSfu, type Sfu } from './sfu.js';
import { StreamMonitor } from './stream-monitor.js';
import { type ServedStream, setupStream } from './stream-setup.js';
import type { VideoTimeline } from './video-timeline.js';
import type { TraceSampling, VideoTracer } from './video-tracer.js';
import { createWorker } from './worker.js';

/** A stream the media plugin serves. */
export interface StreamOptions {
  id: string;
  label?: string;
  /**
   * A profile name (`720p30`, `1080p60`, …) or your own. Default: the source's size and rate when
   * it is a `MediaSource`, else `720p30`.
   */
  profile?: keyof typeof profiles | EncoderProfile;
  encoder?: EncoderName;
  /**
   * Where pictures come from: ffmpeg's own test pattern (`'test-pattern'`, the default), a
   * `MediaSource`, or the name of one the app provides under `MediaSourcesToken` (the server sim's
   * camera is `sim-camera`). A source that can `sendTo` a sink writes straight into the encoder;
   * any other is fed through the encoder's stdin, dropping frames rather than stalling the source.
   * `{ v4l2: '/dev/video0' }` has ffmpeg read a camera itself. `{ h264: source }` takes pictures
   * already encoded (a recording played back) and copies them, never encoding again: no `profile`
   * or `encoder` then, the size and rate are the source's.
   */
  source?: 'test-pattern' | string | MediaSource | { v4l2: string } | { h264: H264Source };
  /**
   * Also segment the stream for HLS, served under `/media/hls/<id>/` through the gateway by
   * `hlsRoute()` (put it in the app too). Default true.
   */
  hls?: boolean;
  /**
   * Encode only while someone holds the stream (see {@link MediaPluginOptions.lingerMs}): a WebRTC
   * viewer, an HLS client, another plugin through `MediaDemandToken`. Default true; false runs the
   * encoder (and its source) from the app's start to its stop.
   */
  onDemand?: boolean;
}

/** Options of {@link nvencMedia}. */
export interface MediaPluginOptions {
  streams: readonly StreamOptions[];
  /** The address browsers reach for WebRTC; `announcedIp` behind NAT. Default 127.0.0.1. */
  listenIp?: string;
  announcedIp?: string;
  /** No video for this long → the stream reports `no-signal`. Default 2000 ms. */
  noSignalMs?: number;
  /**
   * What one client, and all together, may hold: transports per client (default 4), consumers per
   * transport (default 4), transports in all (default 1000). Past one: `E_MEDIA_LIMIT`.
   */
  limits?: MediaLimits;
  /**
   * A viewer transport whose ICE is not connected for this long is closed and its ports freed.
   * Default 30 000 ms.
   */
  connectTimeoutMs?: number;
  /** How long a stream keeps running after its last holder let go, ms. Default 5 000. */
  lingerMs?: number;
  /**
   * How long one HLS request holds its stream, ms (players fetch the playlist about once a segment,
   * so a player that keeps playing keeps holding it). Default 6 000.
   */
  hlsHoldMs?: number;
  /** How far back the video stage figures look, ms. Default 5 000. */
  stageWindowMs?: number;
  /** How often the SFU's packet traces (for the encode and SFU stages) are on. Default 1.5 s of every 3. */
  traceSampling?: TraceSampling;
}

/** What `health()` reports in `data`: every stream's figures by id, and the CPU under `cpu`. */
export type MediaHealthData = Record<string, import('./stream-monitor.js').StreamStats> & {
  readonly cpu?: import('./stream-monitor.js').MediaCpu;
};

/** The plugin's health from its streams' figures: down, degraded (an encoder down, a stream dark) or ok. */
function mediaHealth(
  monitor: StreamMonitor,
  served: ReadonlyMap<string, ServedStream>,
  workerDied: string | undefined,
): HealthReport {
  if (workerDied !== undefined) return { status: 'down', detail: `SFU worker died: ${workerDied}` };
  const stats = monitor.streams();
  // Only a stream someone wants can be down or dark: an idle one is stopped on purpose.
  const down = [...served.entries()]
    .filter(([, st]) => st.runner.running && !st.encoder.status.running)
    .map(([id]) => id);
  const dark = stats.filter((st) => st.state === 'no-signal').map((st) => st.stream);
  const data: MediaHealthData = Object.assign(Object.fromEntries(stats.map((st) => [st.stream, st])), {
    cpu: monitor.cpu(),
  });
  if (down.length) return { status: 'degraded', detail: `encoder down: ${down.join(', ')}`, data };
  if (dark.length) return { status: 'degraded', detail: `no signal: ${dark.join(', ')}`, data };
  return { status: 'ok', data };
}

/**
 * The media plugin: one encode per stream into a mediasoup SFU and an HLS playlist, any number of
 * WebRTC viewers, signalling answered through the gateway (it provides `MediaSignallingToken`),
 * stats per stream and per viewer on `/media/stats` and the gateway's `/metrics`. The HLS files are
 * served by `hlsRoute()`, a plugin of its own set up after the gateway.
 *
 * Video on demand: a stream's encoder and its source (a simulator's camera renders only then) run
 * while someone holds the stream through `MediaDemandToken` — a WebRTC viewer from its `/media/join`
 * until its consumer closes, an HLS client while it keeps fetching, any plugin that acquires it —
 * and stop `lingerMs` after the last lets go. A joining viewer's first frame comes from the fresh
 * encoder's first frame, a keyframe.
 *
 * `health()` reports each stream's state (`idle`, `starting`, `live`, `no-signal`), rate, holders and
 * the server's video stages (render, encode, SFU: p50/p99), and `cpu`: the encoders, the SFU worker
 * and this Node process, in cores.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway, jwtVerifier } from '@telekit/gateway';
 * import { hlsRoute, nvencMedia } from '@telekit/media-nvenc';
 * const app = createApp({
 *   plugins: [
 *     inProcess(),
 *     nvencMedia({ streams: [{ id: 'cam', profile: '720p30' }] }),
 *     hlsRoute(),
 *     gateway({ auth: jwtVerifier({ secret }) }),
 *   ],
 * });
 * await app.start();
 * ```
 */
export function nvencMedia(options: MediaPluginOptions): Plugin {
  const named = options.streams.find((spec) => spec.id === 'cpu');
  if (named)
    throw new TelekitError(
      'E_CONFIG',
      'a stream may not be named cpu (health data reports the CPU under it)',
      {
        context: { field: 'streams[].id' },
      },
    );
  let sfu: Sfu | undefined;
  let monitor: StreamMonitor | undefined;
  const served = new Map<string, ServedStream>();
  let workerDied: string | undefined;
  return {
    name: '@telekit/media-nvenc',
    kind: 'media',
    provides: [MediaSignallingToken, MediaDemandToken, AccessUnitTapToken],
    optional: [MediaSourcesToken],
    async setup(ctx) {
      // The worker dies with this process: it exits when its channel to Node closes (tested by
      // killing a media app with SIGKILL).
      const worker: types.Worker = await createWorker();
      ctx.onTeardown(() => worker.close());
      worker.on('died', (error) => {
        workerDied = error instanceof Error ? error.message : String(error);
        ctx.logger.error('mediasoup worker died', { error: workerDied });
      });
      const s = await createSfu({
        worker,
        ...(options.listenIp ? { listenIp: options.listenIp } : {}),
        ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}),
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      });
      sfu = s;
      ctx.onTeardown(() => s.close());
      const demand = createMediaDemand({
        streams: options.streams.map((spec) => spec.id),
        ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
        onChange: (stream, holders) =>
          ctx.logger.debug('stream holders', { stream, holders: holders.length }),
      });
      ctx.onTeardown(() => demand.close());
      const timelines = new Map<string, VideoTimeline>();
      const tracers = new Map<string, VideoTracer>();
      const m = new StreamMonitor({
        noSignalMs: options.noSignalMs ?? 2_000,
        consumers: () => s.consumers(),
        workerPid: () => worker.pid,
        now: () => ctx.clock.now(),
        onState: (stream, state) =>
          state === 'no-signal'
            ? ctx.logger.warn('no signal', { stream })
            : ctx.logger.info('stream state', { stream, state }),
      });
      monitor = m;
      ctx.onTeardown(() => m.close());
      const appSources = ctx.tryResolve(MediaSourcesToken);
      const streamInfo: StreamInfo[] = [];
      const hlsDirs = new Map<string, string>();

      for (const spec of options.streams) {
        const st = await setupStream(spec, {
          ctx,
          sfu: s,
          demand,
          monitor: m,
          appSources,
          options,
        });
        served.set(spec.id, st);
        timelines.set(spec.id, st.timeline);
        tracers.set(spec.id, st.tracer);
        if (st.hlsDir) hlsDirs.set(spec.id, st.hlsDir);
        streamInfo.push(st.info);
      }

      const signalling = createMediaSignalling({
        sfu: s,
        monitor: m,
        streams: streamInfo,
        hlsDirs,
        registry: m.registry,
        logger: ctx.logger,
        demand,
        timelines,
        onConsumer: (stream, consumer) => tracers.get(stream)?.add(consumer),
        ...(options.hlsHoldMs !== undefined ? { hlsHoldMs: options.hlsHoldMs } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
      });
      ctx.onTeardown(() => signalling.close());
      ctx.provide(MediaSignallingToken, signalling);
      ctx.provide(MediaDemandToken, demand);
      // The H.264 streams' pictures for in-process consumers (a Foxglove endpoint, a recorder).
      const tap = createAccessUnitTap({
        sfu: s,
        demand,
        streams: streamInfo
          .filter((st) => st.codec === 'h264')
          .map(({ id, width, height, fps }) => ({ id, width, height, fps })),
      });
      ctx.onTeardown(() => tap.close());
      ctx.provide(AccessUnitTapToken, tap);
    },
    health() {
      if (!sfu || !monitor) return { status: 'down', detail: 'not started' };
      return mediaHealth(monitor, served, workerDied);
    },
  };
}
