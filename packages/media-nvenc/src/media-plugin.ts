import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MediaSignallingToken,
  type MediaSource,
  MediaSourcesToken,
  type Plugin,
  TelekitError,
} from '@telekit/core';
import type { StreamInfo } from '@telekit/core/schemas';
import type { types } from 'mediasoup';
import type { Observable } from 'rxjs';
import { AccessUnitTapToken, createAccessUnitTap } from './access-unit-tap.js';
import { type EncoderName, type EncoderProfile, profiles } from './encoder-args.js';
import type { H264Source } from './h264-source.js';
import { HLS_PREFIX } from './hls-route.js';
import { createMediaDemand, MediaDemandToken } from './media-demand.js';
import { createMediaSignalling, type MediaLimits } from './media-signalling.js';
import { freeTcpPort } from './ports.js';
import { chooseEncoder } from './probe-encoder.js';
import { createSfu, type Sfu } from './sfu.js';
import { StreamMonitor } from './stream-monitor.js';
import { StreamRunner } from './stream-runner.js';
import { SupervisedEncoder } from './supervised-encoder.js';
import { type FrameTiming, VideoTimeline } from './video-timeline.js';
import { type TraceSampling, VideoTracer } from './video-tracer.js';
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

/**
 * Each new encoder's first RTP sequence number: where the last one stopped (its first number plus
 * the packets the SFU received from it), so the SFU sees no jump and keeps the new encoder's
 * first packet — the start of its first keyframe (see `SupervisedEncoderOptions.rtpSequence`).
 */
function continueSequence(producer: types.Producer): () => Promise<number> {
  let next = Math.floor(Math.random() * 0x10000);
  let counted: number | undefined;
  return async () => {
    const received = (await producer.getStats().catch(() => []))[0]?.packetCount ?? 0;
    if (counted !== undefined) next = (next + received - counted) & 0xffff;
    counted = received;
    return next;
  };
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
  const encoders = new Map<string, SupervisedEncoder>();
  const runners = new Map<string, StreamRunner>();
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
        const encoded =
          typeof spec.source === 'object' && 'h264' in spec.source ? spec.source.h264 : undefined;
        const source =
          typeof spec.source === 'string' && spec.source !== 'test-pattern'
            ? appSources?.get(spec.source)
            : typeof spec.source === 'object' && !('v4l2' in spec.source) && !('h264' in spec.source)
              ? spec.source
              : undefined;
        if (typeof spec.source === 'string' && spec.source !== 'test-pattern' && !source) {
          throw new TelekitError('E_CONFIG', `stream ${spec.id}: no media source named ${spec.source}`, {
            context: {
              stream: spec.id,
              source: spec.source,
              known: [...(appSources?.keys() ?? [])].join(', '),
            },
          });
        }
        if (encoded && (spec.profile !== undefined || (spec.encoder ?? 'auto') !== 'auto'))
          throw new TelekitError(
            'E_CONFIG',
            `stream ${spec.id}: an h264 source is copied, not encoded: give it no profile or encoder`,
            { context: { stream: spec.id, field: spec.profile !== undefined ? 'profile' : 'encoder' } },
          );
        const profile: EncoderProfile = encoded
          ? // The bitrate is the recording's; the GOP is at most a second (the live encoders' rule).
            { width: encoded.width, height: encoded.height, fps: encoded.fps, bitrateKbps: 0, gopSeconds: 1 }
          : typeof spec.profile === 'object'
            ? spec.profile
            : spec.profile
              ? profiles[spec.profile]
              : source
                ? {
                    ...profiles['480p30'],
                    width: source.info.width,
                    height: source.info.height,
                    fps: source.info.fps,
                  }
                : profiles['720p30'];
        if (source && (source.info.width !== profile.width || source.info.height !== profile.height)) {
          throw new TelekitError(
            'E_CONFIG',
            `stream ${spec.id}: source is ${source.info.width}×${source.info.height} but the profile is ${profile.width}×${profile.height}`,
            { context: { stream: spec.id } },
          );
        }
        const stream = await s.addStream(spec.id);
        const chosen = encoded
          ? { encoder: 'copy' as const, why: 'the source is H.264 already: copied, not encoded' }
          : await chooseEncoder(spec.encoder ?? 'auto');
        ctx.logger.info('stream encoder chosen', {
          stream: spec.id,
          encoder: chosen.encoder,
          why: chosen.why,
        });
        let hlsDir: string | undefined;
        if (spec.hls !== false) {
          const dir = mkdtempSync(join(tmpdir(), `telekit-hls-${spec.id.replace(/[^\w-]/g, '_')}-`));
          hlsDir = dir;
          hlsDirs.set(spec.id, dir);
          ctx.onTeardown(() => rmSync(dir, { recursive: true, force: true }));
        }
        const direct = source?.sendTo ? await freeTcpPort() : undefined;
        const enc = new SupervisedEncoder({
          encoder: chosen.encoder,
          profile,
          input: encoded
            ? { kind: 'h264' }
            : !source
              ? typeof spec.source === 'object' && 'v4l2' in spec.source
                ? { kind: 'v4l2', device: spec.source.v4l2 }
                : { kind: 'test-pattern' }
              : direct !== undefined
                ? { kind: 'tcp', port: direct, format: source.info.format }
                : { kind: 'stdin', format: source.info.format },
          rtp: stream.ingest,
          ...(hlsDir ? { hlsDir } : {}),
          logger: ctx.logger,
          autoStart: false,
          rtpSequence: continueSequence(stream.producer),
        });
        encoders.set(spec.id, enc);
        ctx.onTeardown(() => enc.close());
        const following = s.followEncoder(spec.id, enc.status$);
        ctx.onTeardown(() => following.unsubscribe());

        // The stage stamps: the source's frame timings (the sim camera reports them), the encoder's
        // runs, and the SFU's packet traces, joined per frame.
        const timeline = new VideoTimeline({
          gop: Math.max(1, Math.round(profile.fps * Math.min(1, profile.gopSeconds))),
          ...(options.stageWindowMs !== undefined ? { windowMs: options.stageWindowMs } : {}),
        });
        timelines.set(spec.id, timeline);
        const tracer = new VideoTracer({
          producer: stream.producer,
          timeline,
          now: () => ctx.clock.now(),
          ...(options.traceSampling ? { sampling: options.traceSampling } : {}),
        });
        tracers.set(spec.id, tracer);
        ctx.onTeardown(() => tracer.close());
        let wasRunning = false;
        const runs = enc.status$.subscribe(({ running }) => {
          if (running && !wasRunning) timeline.encoderStarted(ctx.clock.now());
          wasRunning = running;
        });
        ctx.onTeardown(() => runs.unsubscribe());
        const timings = (source as { timings$?: Observable<FrameTiming> } | undefined)?.timings$;
        const timed = timings?.subscribe((t) => timeline.sourceFrame(t));
        ctx.onTeardown(() => timed?.unsubscribe());

        const onDemand = spec.onDemand ?? true;
        if (!onDemand) ctx.onTeardown(demand.acquire(spec.id, 'always'));
        const runner = new StreamRunner({
          id: spec.id,
          encoder: enc,
          level$: demand.level$(spec.id),
          ...(hlsDir ? { hlsDir } : {}),
          logger: ctx.logger,
          ...(encoded
            ? { startSource: async () => encoded.start((au) => enc.writeAccessUnit(au)) }
            : source && direct !== undefined
              ? { startSource: () => source.sendTo!(`tcp:127.0.0.1:${direct}`) }
              : source
                ? {
                    startSource: async () => {
                      const feed = enc.feed(source.frames$);
                      return () => feed.unsubscribe();
                    },
                  }
                : {}),
        });
        runners.set(spec.id, runner);
        // Before the encoder's and the source's own teardowns (they run in reverse order).
        ctx.onTeardown(() => runner.close());
        m.add({
          id: spec.id,
          producer: stream.producer,
          encoder: () => ({ status: enc.status, stats: enc.stats, pid: enc.process?.pid }),
          viewers: () => s.viewers(spec.id),
          wanted: () => demand.wanted(spec.id),
          holders: () => demand.holders(spec.id).length,
          budget: (now) => timeline.budget(now),
        });
        streamInfo.push({
          id: spec.id,
          label: spec.label ?? spec.id,
          codec: 'h264',
          width: profile.width,
          height: profile.height,
          fps: profile.fps,
          ...(hlsDir ? { hls: `${HLS_PREFIX}${encodeURIComponent(spec.id)}/index.m3u8` } : {}),
        });
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
      if (workerDied !== undefined) return { status: 'down', detail: `SFU worker died: ${workerDied}` };
      const stats = monitor.streams();
      // Only a stream someone wants can be down or dark: an idle one is stopped on purpose.
      const down = [...encoders.entries()]
        .filter(([id, e]) => runners.get(id)?.running && !e.status.running)
        .map(([id]) => id);
      const dark = stats.filter((st) => st.state === 'no-signal').map((st) => st.stream);
      const data: MediaHealthData = Object.assign(Object.fromEntries(stats.map((st) => [st.stream, st])), {
        cpu: monitor.cpu(),
      });
      if (down.length) return { status: 'degraded', detail: `encoder down: ${down.join(', ')}`, data };
      if (dark.length) return { status: 'degraded', detail: `no signal: ${dark.join(', ')}`, data };
      return { status: 'ok', data };
    },
  };
}
