import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { TelekitError } from '@telekit/core';
import { spawnChild } from '@telekit/core/node';
import { ImageStats } from './stats.js';

/** A recorded picture: one H.264 access unit (Annex B) and when it was taken, ms. */
export interface VideoUnit {
  readonly t: number;
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

/** An episode's grid: its first tick, ms, and how many frames. */
export interface EpisodeGrid {
  readonly start: number;
  readonly frames: number;
}

/** The NAL unit types of an Annex B access unit. */
export function nalTypes(au: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      types.push(au[i + 3]! & 0x1f);
      i += 3;
    }
  }
  return types;
}

/** True when the access unit is an IDR picture (a point a decoder can start from). */
export const isKeyframe = (au: Uint8Array): boolean => nalTypes(au).includes(5);

/** The last index whose time is at or before `t` (-1 when none), by binary search. */
function lastAtOrBefore(units: readonly VideoUnit[], t: number): number {
  let lo = 0;
  let hi = units.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (units[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** How an episode's frames come out of the recorded pictures. */
export interface EpisodeVideo {
  /** First recorded picture fed to the decoder or muxer (a keyframe). */
  readonly from: number;
  /** Last recorded picture fed. */
  readonly to: number;
  /** Re-encode: for each picture from `from` to `to`, how many grid frames show it. Remux: undefined. */
  readonly repeats?: readonly number[];
  /** Remux: pictures before the episode's first frame (the decoder's run-up from the keyframe). */
  readonly preroll: number;
}

/**
 * Plans a remux: the recorded pictures ARE the episode's frames when the stream runs at the dataset's
 * fps and lost nothing over the episode. Picture times are arrival times, which jitter (a picture late
 * by a few frames, then a burst; a stall of a quarter second caught up), so the test is on their offsets
 * from the grid, picture j0 + k against tick k, smoothed by a running median over a second: a late picture moves no median, while a lost
 * picture moves every one after it by a frame and another rate makes them drift. Remuxed when the
 * running medians stay within `spread` frame periods of each other (default 0.75) and j0 puts their
 * median within half a frame of the grid; a keyframe must precede picture j0 (the decoder's run-up is
 * muxed too, before the episode's first frame). Undefined when it cannot be remuxed.
 */
export function planRemux(
  units: readonly VideoUnit[],
  grid: EpisodeGrid,
  fps: number,
  spread = 0.75,
): EpisodeVideo | undefined {
  const period = 1000 / fps;
  let j0 = Math.max(0, lastAtOrBefore(units, grid.start));
  let offsets: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    if (j0 < 0 || j0 + grid.frames > units.length) return undefined;
    offsets = Array.from({ length: grid.frames }, (_, k) => units[j0 + k]!.t - (grid.start + k * period));
    const shift = Math.round(median(offsets) / period);
    if (shift === 0) break;
    j0 -= shift;
  }
  if (j0 < 0 || j0 + grid.frames > units.length) return undefined;
  if (Math.abs(median(offsets)) > period / 2) return undefined;
  const width = Math.min(offsets.length, 2 * Math.max(1, Math.round(fps / 2)) + 1);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < offsets.length; k++) {
    const from = Math.min(Math.max(0, k - (width >> 1)), offsets.length - width);
    const m = median(offsets.slice(from, from + width));
    lo = Math.min(lo, m);
    hi = Math.max(hi, m);
  }
  if (hi - lo > spread * period) return undefined;
  let kf = j0;
  while (kf >= 0 && !units[kf]!.keyframe) kf--;
  if (kf < 0) return undefined;
  return { from: kf, to: j0 + grid.frames - 1, preroll: j0 - kf };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Plans a re-encode: grid frame k shows the latest picture taken at or before tick k (sample-and-hold,
 * like the state), the first decodable picture before the stream's start.
 */
export function planReencode(units: readonly VideoUnit[], grid: EpisodeGrid, fps: number): EpisodeVideo {
  const period = 1000 / fps;
  const firstKey = units.findIndex((u) => u.keyframe);
  if (firstKey < 0)
    throw new TelekitError('E_VALIDATION', 'the recorded video has no keyframe to start decoding from', {
      context: { field: 'video' },
    });
  const picks: number[] = [];
  for (let k = 0; k < grid.frames; k++)
    picks.push(Math.max(firstKey, lastAtOrBefore(units, grid.start + k * period)));
  let from = picks[0]!;
  while (!units[from]!.keyframe) from--;
  const to = picks[picks.length - 1]!;
  const repeats = new Array<number>(to - from + 1).fill(0);
  for (const p of picks) repeats[p - from]!++;
  return { from, to, repeats, preroll: 0 };
}

function run(command: string, args: string[]): { proc: ChildProcess; done: Promise<void> } {
  const proc = spawnChild(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000);
  });
  proc.stdin?.on('error', () => undefined);
  const done = new Promise<void>((resolve, reject) => {
    proc.on('error', (e) =>
      reject(new TelekitError('E_INTERNAL', `${command} could not start: ${e.message}`)),
    );
    proc.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new TelekitError('E_INTERNAL', `${command} failed [code:${code}]: ${err.trim()}`)),
    );
  });
  return { proc, done };
}

async function write(stream: Writable, data: Uint8Array): Promise<void> {
  if (!stream.write(data)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

/**
 * Remuxes the recorded H.264 into an MP4 at `fps` (no re-encode): the episodes' pictures one after
 * another, each from its keyframe, at 1/fps apart.
 */
export async function remuxMp4(
  units: readonly VideoUnit[],
  plans: readonly EpisodeVideo[],
  fps: number,
  out: string,
  onFrame: () => void,
): Promise<void> {
  mkdirSync(dirname(out), { recursive: true });
  const { proc, done } = run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-framerate', String(fps), '-i', 'pipe:0'],
    // The raw stream's timing comes from its SPS and drifts by a tick every few frames: stamped anew,
    // picture n is at exactly n/fps.
    ...['-c:v', 'copy', '-bsf:v', `setts=ts=N/(${fps}*TB):duration=1/(${fps}*TB)`],
    ...['-movflags', '+faststart', '-y', out],
  ]);
  for (const plan of plans)
    for (let i = plan.from; i <= plan.to; i++) {
      await write(proc.stdin!, units[i]!.data);
      onFrame();
    }
  proc.stdin!.end();
  await done;
}

/** Reads a YUV4MPEG2 stream: its header, then each frame's bytes. */
class Y4mReader {
  header: { width: number; height: number; line: string } | undefined;
  #buf: Buffer = Buffer.alloc(0);
  #frameBytes = 0;

  /** Feeds bytes; returns the whole frames they completed. */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const frames: Buffer[] = [];
    if (!this.header) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl < 0) return frames;
      const line = this.#buf.subarray(0, nl).toString('latin1');
      const width = Number(/ W(\d+)/.exec(line)?.[1]);
      const height = Number(/ H(\d+)/.exec(line)?.[1]);
      this.header = { width, height, line };
      this.#frameBytes = width * height + 2 * ((width >> 1) * (height >> 1));
      this.#buf = this.#buf.subarray(nl + 1);
    }
    for (;;) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl < 0 || this.#buf.length < nl + 1 + this.#frameBytes) break;
      frames.push(Buffer.from(this.#buf.subarray(nl + 1, nl + 1 + this.#frameBytes)));
      this.#buf = this.#buf.subarray(nl + 1 + this.#frameBytes);
    }
    return frames;
  }
}

/**
 * Re-encodes the episodes' frames onto the fps grid: each episode's pictures are decoded with
 * ffmpeg, every picture is repeated for as many grid frames as show it, and one libx264 encoder
 * writes them all (a keyframe every second, no B-frames), yuv420p. Returns the frame size.
 */
export async function reencodeMp4(
  units: readonly VideoUnit[],
  plans: readonly EpisodeVideo[],
  fps: number,
  out: string,
  onFrame: () => void,
): Promise<{ width: number; height: number }> {
  mkdirSync(dirname(out), { recursive: true });
  const encoder = run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'yuv4mpegpipe', '-i', 'pipe:0'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', String(fps), '-bf', '0'],
    ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-y', out],
  ]);
  let size: { width: number; height: number } | undefined;
  for (const plan of plans) {
    const decoder = run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0'],
      ...(size ? ['-vf', `scale=${size.width}:${size.height}`] : []),
      ...['-fps_mode', 'passthrough', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', 'pipe:1'],
    ]);
    const feeding = (async () => {
      for (let i = plan.from; i <= plan.to; i++) await write(decoder.proc.stdin!, units[i]!.data);
      decoder.proc.stdin!.end();
    })();
    const y4m = new Y4mReader();
    const repeats = plan.repeats ?? [];
    let index = 0;
    let last: Buffer | undefined;
    const emit = async (frame: Buffer, times: number) => {
      for (let r = 0; r < times; r++) {
        await write(encoder.proc.stdin!, Buffer.from('FRAME\n'));
        await write(encoder.proc.stdin!, frame);
        onFrame();
      }
    };
    for await (const chunk of decoder.proc.stdout! as AsyncIterable<Buffer>) {
      for (const frame of y4m.push(chunk)) {
        if (!size && y4m.header) {
          size = { width: y4m.header.width, height: y4m.header.height };
          await write(
            encoder.proc.stdin!,
            Buffer.from(`YUV4MPEG2 W${size.width} H${size.height} F${fps}:1 Ip A1:1 C420jpeg\n`),
          );
        }
        await emit(frame, repeats[index++] ?? 0);
        last = frame;
      }
    }
    await feeding;
    await decoder.done;
    // A picture the decoder could not make: its frames show the last one it made.
    const missing = repeats.slice(index).reduce((a, b) => a + b, 0);
    if (missing > 0 && last) await emit(last, missing);
  }
  encoder.proc.stdin!.end();
  await encoder.done;
  if (!size) throw new TelekitError('E_INTERNAL', 'ffmpeg decoded no picture of the recorded video');
  return size;
}

/**
 * Decodes an MP4 back (every `step`-th frame, scaled to at most 160 pixels wide) and gathers
 * per-episode RGB statistics; `episodeOf(n)` maps the file's frame n to an episode (or -1).
 */
export async function mp4ImageStats(
  file: string,
  step: number,
  episodes: number,
  episodeOf: (frame: number) => number,
): Promise<ImageStats[]> {
  const stats = Array.from({ length: episodes }, () => new ImageStats());
  const { width: w0, height: h0 } = await probeSize(file);
  const width = Math.min(160, w0);
  const height = Math.max(2, Math.round((h0 * width) / w0 / 2) * 2);
  const frameBytes = width * height * 3;
  const decoder = run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-i', file],
    ...['-vf', `select='not(mod(n\\,${step}))',scale=${width}:${height}`, '-fps_mode', 'passthrough'],
    ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
  ]);
  decoder.proc.stdin?.end();
  let buf: Buffer = Buffer.alloc(0);
  let n = 0;
  for await (const chunk of decoder.proc.stdout! as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= frameBytes) {
      const e = episodeOf(n * step);
      if (e >= 0) stats[e]!.addFrame(buf.subarray(0, frameBytes));
      buf = buf.subarray(frameBytes);
      n++;
    }
  }
  await decoder.done;
  return stats;
}

/** The width and height of an MP4's first video stream, by ffprobe. */
export async function probeSize(file: string): Promise<{ width: number; height: number }> {
  const probe = run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height'],
    ...['-of', 'csv=p=0', file],
  ]);
  let out = '';
  probe.proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  probe.proc.stdin?.end();
  await probe.done;
  const [width, height] = out.trim().split(',').map(Number);
  if (!width || !height) throw new TelekitError('E_INTERNAL', `ffprobe read no video size [file:${file}]`);
  return { width, height };
}
