import { type Plugin, TelekitError } from '@telekit/core';
import { spawnChild } from '@telekit/core/node';
import { nalTypes } from './lerobot/video.js';
import { type Recording, readRecording } from './read-recording.js';
import { type Replay, type ReplayOptions, replayPlugin } from './replay.js';

/** A recorded video stream (a `/video/<id>` channel): the size and rate of its pictures. */
export interface RecordedVideoStream {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** The recorded rate, frames/s: the median interval's, rounded. */
  readonly fps: number;
}

/** Options of {@link replayPlugins}: the replay's, and how its video is served. */
export interface ReplayPluginsOptions extends ReplayOptions {
  /** Serve the recorded video (default true): needs `@telekit/media-nvenc` (an optional peer). */
  video?: boolean;
  /** Passed to the media plugin: where browsers reach WebRTC, how long a stream lingers. */
  media?: { listenIp?: string; announcedIp?: string; lingerMs?: number };
}

/** The width and height in an access unit's SPS, read by ffprobe. */
async function probeSize(keyframe: Uint8Array, stream: string): Promise<{ width: number; height: number }> {
  const proc = spawnChild(
    'ffprobe',
    ['-v', 'error', '-f', 'h264', '-i', 'pipe:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-1000);
  });
  proc.stdin?.on('error', () => undefined);
  proc.stdin?.end(keyframe);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', (e) => reject(new TelekitError('E_INTERNAL', `ffprobe could not start: ${e.message}`)));
    proc.on('close', resolve);
  });
  const [width, height] = out.trim().split(',').map(Number);
  if (code !== 0 || !width || !height)
    throw new TelekitError('E_INTERNAL', `ffprobe read no picture size [stream:${stream}]: ${err.trim()}`);
  return { width, height };
}

/**
 * The recorded video streams of a recording (`foxglove.CompressedVideo` in H.264), with the size of
 * their pictures (from the first keyframe's SPS, read by ffprobe) and their recorded rate. Streams
 * without a keyframe are left out: nothing of them can be shown.
 */
export async function recordedVideoStreams(recording: Recording): Promise<RecordedVideoStream[]> {
  const found = new Map<string, { keyframe?: Uint8Array; times: number[] }>();
  for (const m of recording.messages) {
    if (!m.topic.startsWith('/video/')) continue;
    const v = m.json as { format?: unknown; data?: unknown };
    if (v.format !== 'h264' || typeof v.data !== 'string') continue;
    const id = m.topic.slice('/video/'.length);
    const s = found.get(id) ?? { times: [] };
    found.set(id, s);
    s.times.push(Number(m.logTime / 1_000_000n));
    if (!s.keyframe) {
      const data = Buffer.from(v.data, 'base64');
      if (nalTypes(data).includes(5)) s.keyframe = data;
    }
  }
  const out: RecordedVideoStream[] = [];
  for (const [id, s] of found) {
    if (!s.keyframe) continue;
    const gaps = s.times
      .slice(1)
      .map((t, i) => t - s.times[i]!)
      .filter((g) => g > 0)
      .sort((a, b) => a - b);
    const median = gaps[gaps.length >> 1];
    const fps = median ? Math.max(1, Math.min(240, Math.round(1000 / median))) : 30;
    out.push({ id, ...(await probeSize(s.keyframe, id)), fps });
  }
  return out;
}

/**
 * The plugins that serve a recording as if it were live: {@link replay}'s telemetry and, for a
 * recording with video, `@telekit/media-nvenc`'s media plugin serving each recorded stream under its
 * recorded id — WebRTC through the SFU and HLS, as the live encoder's were, so a camera viewer works
 * unchanged. The recorded H.264 is copied, never encoded again (the media plugin's `{ h264 }`
 * source), and follows the replay's clock: its pace times the speed, nothing while paused, and after
 * a seek (or when a viewer arrives) the keyframe at or before the position and the pictures from
 * there to it. Put a gateway beside them. Without `@telekit/media-nvenc` installed, the video is left
 * out and a plugin says so in the log.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway } from '@telekit/gateway';
 * import { replayPlugins } from '@telekit/recorder';
 * const app = createApp({
 *   plugins: [inProcess(), ...(await replayPlugins('recordings/session.mcap')), gateway({ auth })],
 * });
 * await app.start();
 * ```
 */
export async function replayPlugins(
  file: string | Recording,
  options: ReplayPluginsOptions = {},
): Promise<Plugin[]> {
  const { video: withVideo = true, media: mediaOptions, ...replayOptions } = options;
  const recording = typeof file === 'string' ? await readRecording(file) : file;
  let running: Replay | undefined;
  const plugins: Plugin[] = [
    replayPlugin(recording, replayOptions, (r) => {
      running = r;
    }),
  ];
  const streams = withVideo ? await recordedVideoStreams(recording) : [];
  if (streams.length === 0) return plugins;
  let media: typeof import('@telekit/media-nvenc') | undefined;
  try {
    media = await import('@telekit/media-nvenc');
  } catch (error) {
    plugins.push({
      name: '@telekit/recorder/replay-video',
      setup(ctx) {
        ctx.logger.warn('recorded video not served: @telekit/media-nvenc is not installed', {
          streams: streams.map((s) => s.id).join(', '),
          error: error instanceof Error ? error.message : String(error),
        });
      },
    });
    return plugins;
  }
  plugins.push(
    media.nvencMedia({
      ...mediaOptions,
      streams: streams.map((s) => ({
        id: s.id,
        source: {
          h264: {
            width: s.width,
            height: s.height,
            fps: s.fps,
            start(push: (au: Uint8Array) => void) {
              if (!running)
                throw new TelekitError('E_INTERNAL', `the replay is not running [stream:${s.id}]`);
              return running.watchVideo(s.id, push);
            },
          },
        },
      })),
    }),
    // HLS through the gateway's route (the player's fallback when WebRTC cannot connect).
    media.hlsRoute(),
  );
  return plugins;
}
