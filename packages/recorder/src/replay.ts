import {
  type Plugin,
  TelekitError,
  type Token,
  type Topic,
  type Transport,
  TransportToken,
  token,
  topicByName,
} from '@telekit/core';
import { type RecordedMessage, type Recording, readRecording } from './read-recording.js';

/** A recording playing back onto a transport. */
export interface Replay {
  /** The recording's length, ms (first to last message replayed: telemetry and video). */
  readonly durationMs: number;
  /** The recorded video streams (the `/video/<stream>` channels), by stream id. */
  readonly videoStreams: readonly string[];
  /**
   * Follows a recorded video stream on the replay's clock: `push` gets each access unit (H.264,
   * Annex B, one picture) when playback reaches it — at the recorded pace times the speed, nothing
   * while paused. At once, and after each seek, it gets the keyframe at or before the position and
   * the pictures from there up to the position, so a decoder shows the position's picture. Returns
   * the function that stops it. Errors with `E_VALIDATION` for a stream not in the recording.
   */
  watchVideo(stream: string, push: (accessUnit: Uint8Array) => void): () => void;
  /** Where playback is, ms from the start. */
  position(): number;
  /** Whether it is playing. */
  readonly playing: boolean;
  /** Playback speed: 1 is real time. */
  readonly speed: number;
  play(): void;
  pause(): void;
  /** Jumps to `ms` from the start (clamped); playback goes on from there if it was playing. */
  seek(ms: number): void;
  setSpeed(speed: number): void;
  /** Resolves when playback reaches the end (or the replay is closed). */
  readonly ended: Promise<void>;
  close(): void;
}

/** Options of {@link createReplay} and {@link replay}. */
export interface ReplayOptions {
  /** Playback speed: 1 (default) is real time, 10 is ten times faster. */
  speed?: number;
  /** Start paused. Default false. */
  paused?: boolean;
  /**
   * Restamp each message's `header.stamp` with the time it is replayed (default true), so a live
   * UI's freshness checks and latency figures read as they did; the recorded time is the MCAP log time.
   */
  restamp?: boolean;
}

/** A replayed message: telemetry for the transport, or a picture of a video stream. */
type Item =
  | { atMs: number; topic: Topic; json: { header?: { stamp: number } }; video?: undefined }
  | { atMs: number; video: { stream: string; unit: number } };

/** A recorded picture and where it sits in the replay's items. */
interface VideoUnit {
  readonly data: Uint8Array;
  readonly keyframe: boolean;
  item: number;
}

const VIDEO_PREFIX = '/video/';

/** True when an Annex B access unit holds an IDR picture (NAL type 5). */
function isKeyframe(au: Uint8Array): boolean {
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      if ((au[i + 3]! & 0x1f) === 5) return true;
      i += 2;
    }
  }
  return false;
}

/**
 * What a replay plays: core's telemetry topics for the transport (never commands), and the
 * pictures of the `/video/<stream>` channels (`foxglove.CompressedVideo`, H.264) for whoever
 * watches them.
 */
function replayable(messages: readonly RecordedMessage[]) {
  const items: Item[] = [];
  const units = new Map<string, VideoUnit[]>();
  for (const m of messages) {
    const atMs = Number(m.logTime / 1_000n) / 1000;
    if (m.topic.startsWith(VIDEO_PREFIX)) {
      const v = m.json as { format?: unknown; data?: unknown };
      if (v.format !== 'h264' || typeof v.data !== 'string') continue;
      const stream = m.topic.slice(VIDEO_PREFIX.length);
      const list = units.get(stream) ?? [];
      units.set(stream, list);
      const data = Buffer.from(v.data, 'base64');
      list.push({ data, keyframe: isKeyframe(data), item: -1 });
      items.push({ atMs, video: { stream, unit: list.length - 1 } });
      continue;
    }
    const topic = topicByName(m.topic);
    if (topic?.lane !== 'telemetry') continue;
    items.push({ atMs, topic, json: m.json as { header?: { stamp: number } } });
  }
  // A stable sort: a stream's pictures stay in recorded order.
  items.sort((a, b) => a.atMs - b.atMs);
  for (const [i, item] of items.entries())
    if (item.video) units.get(item.video.stream)![item.video.unit]!.item = i;
  return { items, units };
}

/**
 * Plays the telemetry of recorded messages back onto `transport` at their recorded pace (times
 * `speed`), with pause and seek. Commands are not replayed: a replay is read-only, and what was
 * commanded is in the recording's `/controller/*` channels for whoever reads it.
 *
 * One timer at a time: the next message's due time is `start + (atMs − t0 − offset) / speed`; pause
 * keeps the position, seek moves it (a binary search), and a speed change re-bases the start.
 */
export function createReplay(
  messages: readonly RecordedMessage[],
  transport: Transport,
  options: ReplayOptions = {},
): Replay {
  const { items, units } = replayable(messages);
  const watchers = new Map<string, Set<(au: Uint8Array) => void>>();
  const t0 = items[0]?.atMs ?? 0;
  const durationMs = (items[items.length - 1]?.atMs ?? t0) - t0;
  const restamp = options.restamp ?? true;
  let speed = options.speed ?? 1;
  let next = 0;
  let offset = 0; // ms of recording already played, when paused
  let startedAt = 0; // wall ms at which `offset` was playing
  let timer: NodeJS.Timeout | undefined;
  let playing = false;
  let closed = false;
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const position = () => (playing ? Math.min(durationMs, offset + (Date.now() - startedAt) * speed) : offset);
  const schedule = () => {
    clearTimeout(timer);
    if (!playing || closed) return;
    const now = position();
    while (next < items.length && items[next]!.atMs - t0 <= now) {
      const item = items[next++]!;
      if (item.video) {
        const unit = units.get(item.video.stream)![item.video.unit]!;
        for (const push of watchers.get(item.video.stream) ?? []) push(unit.data);
        continue;
      }
      const json =
        restamp && item.json.header
          ? { ...item.json, header: { ...item.json.header, stamp: Date.now() } }
          : item.json;
      transport.publish(item.topic, json);
    }
    if (next >= items.length) {
      playing = false;
      offset = durationMs;
      finish();
      return;
    }
    timer = setTimeout(schedule, Math.max(0, (items[next]!.atMs - t0 - now) / speed));
  };
  const check = (value: number, field: string) => {
    if (!Number.isFinite(value) || (field === 'speed' && value <= 0))
      throw new TelekitError(
        'E_VALIDATION',
        `${field} must be a finite number${field === 'speed' ? ' above 0' : ''}`,
        {
          context: { field },
        },
      );
  };
  check(speed, 'speed');
  /** The pictures played so far from the last keyframe on: what a decoder needs to show the position. */
  const catchUp = (stream: string, push: (au: Uint8Array) => void) => {
    const list = units.get(stream) ?? [];
    let last = -1;
    for (let i = 0; i < list.length && list[i]!.item < next; i++) last = i;
    let key = last;
    while (key >= 0 && !list[key]!.keyframe) key--;
    if (key < 0) return;
    for (let i = key; i <= last; i++) push(list[i]!.data);
  };
  const r: Replay = {
    durationMs,
    videoStreams: [...units.keys()],
    watchVideo(stream, push) {
      if (!units.has(stream))
        throw new TelekitError('E_VALIDATION', `no video stream ${stream} in the recording`, {
          context: { field: 'stream', known: [...units.keys()].join(', ') },
        });
      const set = watchers.get(stream) ?? new Set();
      watchers.set(stream, set);
      const own = (au: Uint8Array) => push(au);
      set.add(own);
      catchUp(stream, own);
      return () => {
        set.delete(own);
      };
    },
    position,
    get playing() {
      return playing;
    },
    get speed() {
      return speed;
    },
    play() {
      if (playing || closed || next >= items.length) return;
      playing = true;
      startedAt = Date.now();
      schedule();
    },
    pause() {
      if (!playing) return;
      offset = position();
      playing = false;
      clearTimeout(timer);
    },
    seek(ms) {
      check(ms, 'position');
      const was = playing;
      r.pause();
      offset = Math.max(0, Math.min(durationMs, ms));
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (items[mid]!.atMs - t0 < offset) lo = mid + 1;
        else hi = mid;
      }
      next = lo;
      for (const [stream, set] of watchers) for (const push of set) catchUp(stream, push);
      if (was) r.play();
    },
    setSpeed(s) {
      check(s, 'speed');
      const was = playing;
      r.pause();
      speed = s;
      if (was) r.play();
    },
    ended,
    close() {
      closed = true;
      watchers.clear();
      playing = false;
      clearTimeout(timer);
      finish();
    },
  };
  if (!options.paused) r.play();
  return r;
}

/** The running {@link Replay} of a {@link replay} plugin. */
export const ReplayToken: Token<Replay> = token<Replay>('@telekit/recorder/Replay');

/**
 * A recording played back as the app's telemetry: put it in an app in place of the robot, behind a
 * gateway whose access list lets no one publish commands, and the widgets show the session as it was.
 * `file` is a path, or a recording {@link readRecording} read already. The recorded video is served
 * by a media plugin: see {@link replayPlugins}, which adds it.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { replay, ReplayToken } from '@telekit/recorder';
 * const app = createApp({ plugins: [inProcess(), replay('recordings/session.mcap', { speed: 2 })] });
 * await app.start();
 * await app.resolve(ReplayToken).ended;
 * ```
 */
export function replay(file: string | Recording, options: ReplayOptions = {}): Plugin {
  return replayPlugin(file, options, () => undefined);
}

/** {@link replay}, telling `started` the running replay (for the video sources of {@link replayPlugins}). */
export function replayPlugin(
  file: string | Recording,
  options: ReplayOptions,
  started: (r: Replay | undefined) => void,
): Plugin {
  return {
    name: '@telekit/recorder/replay',
    kind: 'simulator',
    requires: [TransportToken],
    provides: [ReplayToken],
    async setup(ctx) {
      const recording = typeof file === 'string' ? await readRecording(file) : file;
      const r = createReplay(recording.messages, ctx.resolve(TransportToken), options);
      ctx.provide(ReplayToken, r);
      started(r);
      ctx.logger.info('replaying', {
        ...(typeof file === 'string' ? { file } : {}),
        durationMs: Math.round(r.durationMs),
        speed: r.speed,
        video: r.videoStreams.join(', '),
      });
      return () => {
        started(undefined);
        r.close();
      };
    },
  };
}
