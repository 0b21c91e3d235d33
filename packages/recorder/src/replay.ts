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
import { type RecordedMessage, readRecording } from './read-recording.js';

/** A recording playing back onto a transport. */
export interface Replay {
  /** The recording's length, ms (first to last telemetry message). */
  readonly durationMs: number;
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

/** Telemetry a transport can carry again: core's telemetry topics (never commands, never video). */
function replayable(messages: readonly RecordedMessage[]) {
  const out: { atMs: number; topic: Topic; json: { header?: { stamp: number } } }[] = [];
  for (const m of messages) {
    const topic = topicByName(m.topic);
    if (topic?.lane !== 'telemetry') continue;
    out.push({
      atMs: Number(m.logTime / 1_000n) / 1000,
      topic,
      json: m.json as { header?: { stamp: number } },
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
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
  const items = replayable(messages);
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
  const r: Replay = {
    durationMs,
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
export function replay(file: string, options: ReplayOptions = {}): Plugin {
  return {
    name: '@telekit/recorder/replay',
    kind: 'simulator',
    requires: [TransportToken],
    provides: [ReplayToken],
    async setup(ctx) {
      const recording = await readRecording(file);
      const r = createReplay(recording.messages, ctx.resolve(TransportToken), options);
      ctx.provide(ReplayToken, r);
      ctx.logger.info('replaying', { file, durationMs: Math.round(r.durationMs), speed: r.speed });
      return () => r.close();
    },
  };
}
