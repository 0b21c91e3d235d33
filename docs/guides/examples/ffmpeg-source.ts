import { type Clock, type MediaSource, systemClock, TelekitError } from '@telekit/core';
import { type Frame, frameByteLength, type MediaSourceInfo } from '@telekit/core/contracts';
import { stampFrame } from '@telekit/core/media';
import { spawnChild } from '@telekit/core/node';
import { Observable, ReplaySubject, share, takeUntil } from 'rxjs';

/** Options of {@link ffmpegSource}. */
export interface FfmpegSourceOptions {
  /**
   * ffmpeg's input arguments: a camera (`['-f', 'v4l2', '-i', '/dev/video0']`), a file played in a
   * loop (`['-re', '-stream_loop', '-1', '-i', 'drive.mp4']`), a test pattern
   * (`['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30']`).
   */
  input: readonly string[];
  width: number;
  height: number;
  fps: number;
  /** The source's name, in logs and errors. Default `ffmpeg`. */
  name?: string;
  /** The ffmpeg to run. Default `ffmpeg` on the PATH. */
  ffmpeg?: string;
  /** Frame timestamps: the app's clock (`ctx.clock`). Default `systemClock`. */
  clock?: Clock;
  /**
   * Draw each frame's timestamp into its top-left corner (`stampFrame`), so the camera viewer
   * measures glass-to-glass latency. Default false: the picture as ffmpeg gave it.
   */
  stamp?: boolean;
}

/**
 * Raw frames from anything ffmpeg reads, scaled to the declared size and rate, RGBA. One ffmpeg
 * runs while at least one subscriber watches, shared by all of them; it is stopped with the last
 * and started again with the next. A child that dies with this process (`spawnChild`): no ffmpeg
 * outlives the app, however the app ends.
 */
export function ffmpegSource(options: FfmpegSourceOptions): MediaSource {
  const info: MediaSourceInfo = {
    width: options.width,
    height: options.height,
    fps: options.fps,
    format: 'rgba',
  };
  const name = options.name ?? 'ffmpeg';
  const clock = options.clock ?? systemClock;
  const bytes = frameByteLength(info.format, info.width, info.height);
  const closed$ = new ReplaySubject<void>(1);
  let seq = 0; // across runs, so a frame number never repeats

  /** One ffmpeg for as long as someone subscribes: its stdout cut into frames. */
  const run = new Observable<Frame>((subscriber) => {
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ...options.input,
      ...['-vf', `fps=${info.fps},scale=${info.width}:${info.height}`],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
    ];
    const child = spawnChild(options.ffmpeg ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stopping = false;
    let stderr = '';
    // A frame arrives in pieces of any size: keep what came until a whole frame is there.
    let pending: Buffer = Buffer.alloc(0);
    child.stdout!.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= bytes) {
        const data = new Uint8Array(pending.subarray(0, bytes)); // a copy: the frame owns its pixels
        pending = pending.subarray(bytes);
        const timestamp = clock.now();
        if (options.stamp) stampFrame(data, info.width, info.height, timestamp);
        subscriber.next({ ...info, timestamp, seq: seq++, data });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-1_000);
    });
    const failed = (message: string, context: Record<string, string | number>, cause?: unknown) =>
      subscriber.error(
        new TelekitError('E_MEDIA_SOURCE', message, {
          operation: 'frames$',
          context: { source: name, ...context },
          cause,
        }),
      );
    child.on('error', (error) =>
      failed('ffmpeg could not start', { ffmpeg: options.ffmpeg ?? 'ffmpeg' }, error),
    );
    child.on('exit', (code, signal) => {
      if (stopping) return;
      // A file that ends is the end of the stream; anything else is a failure, with ffmpeg's words.
      if (code === 0) subscriber.complete();
      else
        failed('ffmpeg exited', {
          code: code ?? String(signal),
          stderr: stderr.trim().split('\n').at(-1) ?? '',
        });
    });
    return () => {
      stopping = true;
      child.kill('SIGTERM');
    };
  });

  return {
    name,
    info,
    // Shared: one ffmpeg for every viewer. After close, a new subscriber completes at once.
    frames$: run.pipe(share(), takeUntil(closed$)),
    async close() {
      closed$.next();
      closed$.complete();
    },
  };
}
