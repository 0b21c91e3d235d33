/**
 * One stream's bring-up in the media plugin: where its pictures come from and the checks on that,
 * its profile, its SFU ingest, the supervised encoder (with its HLS directory and its source's
 * input), the stage timeline and packet tracer, the on-demand runner that starts and stops encoder
 * and source, and its entry in the monitor and in `/media/streams`. Every part it makes is torn
 * down by the plugin context's teardowns it registers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MediaSource, type PluginContext, TelekitError } from '@telekit/core';
import type { StreamInfo } from '@telekit/core/schemas';
import type { types } from 'mediasoup';
import type { Observable } from 'rxjs';
import type { EncoderInput, EncoderProfile } from './encoder-args.js';
import { profiles } from './encoder-args.js';
import type { H264Source } from './h264-source.js';
import { HLS_PREFIX } from './hls-route.js';
import type { MediaDemand } from './media-demand.js';
import type { MediaPluginOptions, StreamOptions } from './media-plugin.js';
import { freeTcpPort } from './ports.js';
import { chooseEncoder } from './probe-encoder.js';
import type { Sfu } from './sfu.js';
import type { StreamMonitor } from './stream-monitor.js';
import { StreamRunner, type StreamRunnerOptions } from './stream-runner.js';
import { SupervisedEncoder } from './supervised-encoder.js';
import { type FrameTiming, VideoTimeline } from './video-timeline.js';
import { VideoTracer } from './video-tracer.js';

/** What a stream's bring-up works with: the plugin's context and the parts shared by all streams. */
export interface StreamSetupDeps {
  ctx: PluginContext;
  sfu: Sfu;
  demand: MediaDemand;
  monitor: StreamMonitor;
  /** The sources the app provides under `MediaSourcesToken`, if any. */
  appSources: ReadonlyMap<string, MediaSource> | undefined;
  options: Pick<MediaPluginOptions, 'stageWindowMs' | 'traceSampling'>;
}

/** A stream brought up: what the plugin's health, signalling and tap read of it. */
export interface ServedStream {
  readonly info: StreamInfo;
  readonly hlsDir: string | undefined;
  readonly encoder: SupervisedEncoder;
  readonly runner: StreamRunner;
  readonly timeline: VideoTimeline;
  readonly tracer: VideoTracer;
}

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

/** The stream's pictures: already encoded (`encoded`), a `MediaSource` (`source`), or neither (ffmpeg's own input). */
function resolveSource(
  spec: StreamOptions,
  appSources: ReadonlyMap<string, MediaSource> | undefined,
): { encoded: H264Source | undefined; source: MediaSource | undefined } {
  const encoded = typeof spec.source === 'object' && 'h264' in spec.source ? spec.source.h264 : undefined;
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
  return { encoded, source };
}

/** The stream's profile: the recording's, the one named or given, the source's, or `720p30`. */
function streamProfile(
  spec: StreamOptions,
  encoded: H264Source | undefined,
  source: MediaSource | undefined,
): EncoderProfile {
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
  return profile;
}

/** What the encoder reads: the copied access units, a camera, the test pattern, a TCP port or stdin. */
function encoderInput(
  spec: StreamOptions,
  encoded: H264Source | undefined,
  source: MediaSource | undefined,
  direct: number | undefined,
): EncoderInput {
  return encoded
    ? { kind: 'h264' }
    : !source
      ? typeof spec.source === 'object' && 'v4l2' in spec.source
        ? { kind: 'v4l2', device: spec.source.v4l2 }
        : { kind: 'test-pattern' }
      : direct !== undefined
        ? { kind: 'tcp', port: direct, format: source.info.format }
        : { kind: 'stdin', format: source.info.format };
}

/** How the runner starts the source, when there is one the encoder does not read by itself. */
function sourceStarter(
  enc: SupervisedEncoder,
  encoded: H264Source | undefined,
  source: MediaSource | undefined,
  direct: number | undefined,
): Pick<StreamRunnerOptions, 'startSource'> {
  return encoded
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
        : {};
}

/** A temporary directory for the stream's HLS files, removed at teardown. */
function hlsDirectory(ctx: PluginContext, id: string): string {
  const dir = mkdtempSync(join(tmpdir(), `telekit-hls-${id.replace(/[^\w-]/g, '_')}-`));
  ctx.onTeardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Brings one stream up: checks its source and profile, then makes its parts in order. */
export async function setupStream(spec: StreamOptions, deps: StreamSetupDeps): Promise<ServedStream> {
  const { ctx, sfu, demand, monitor, options } = deps;
  const { encoded, source } = resolveSource(spec, deps.appSources);
  const profile = streamProfile(spec, encoded, source);
  const stream = await sfu.addStream(spec.id);
  const chosen = encoded
    ? { encoder: 'copy' as const, why: 'the source is H.264 already: copied, not encoded' }
    : await chooseEncoder(spec.encoder ?? 'auto');
  ctx.logger.info('stream encoder chosen', {
    stream: spec.id,
    encoder: chosen.encoder,
    why: chosen.why,
  });
  const hlsDir = spec.hls !== false ? hlsDirectory(ctx, spec.id) : undefined;
  const direct = source?.sendTo ? await freeTcpPort() : undefined;
  const enc = new SupervisedEncoder({
    encoder: chosen.encoder,
    profile,
    input: encoderInput(spec, encoded, source, direct),
    rtp: stream.ingest,
    ...(hlsDir ? { hlsDir } : {}),
    logger: ctx.logger,
    autoStart: false,
    rtpSequence: continueSequence(stream.producer),
  });
  ctx.onTeardown(() => enc.close());
  const following = sfu.followEncoder(spec.id, enc.status$);
  ctx.onTeardown(() => following.unsubscribe());

  // The stage stamps: the source's frame timings (the sim camera reports them), the encoder's
  // runs, and the SFU's packet traces, joined per frame.
  const timeline = new VideoTimeline({
    gop: Math.max(1, Math.round(profile.fps * Math.min(1, profile.gopSeconds))),
    ...(options.stageWindowMs !== undefined ? { windowMs: options.stageWindowMs } : {}),
  });
  const tracer = new VideoTracer({
    producer: stream.producer,
    timeline,
    now: () => ctx.clock.now(),
    ...(options.traceSampling ? { sampling: options.traceSampling } : {}),
  });
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
    ...sourceStarter(enc, encoded, source, direct),
  });
  // Before the encoder's and the source's own teardowns (they run in reverse order).
  ctx.onTeardown(() => runner.close());
  monitor.add({
    id: spec.id,
    producer: stream.producer,
    encoder: () => ({ status: enc.status, stats: enc.stats, pid: enc.process?.pid }),
    viewers: () => sfu.viewers(spec.id),
    wanted: () => demand.wanted(spec.id),
    holders: () => demand.holders(spec.id).length,
    budget: (now) => timeline.budget(now),
  });
  const info: StreamInfo = {
    id: spec.id,
    label: spec.label ?? spec.id,
    codec: 'h264',
    width: profile.width,
    height: profile.height,
    fps: profile.fps,
    ...(hlsDir ? { hls: `${HLS_PREFIX}${encodeURIComponent(spec.id)}/index.m3u8` } : {}),
  };
  return { info, hlsDir, encoder: enc, runner, timeline, tracer };
}
