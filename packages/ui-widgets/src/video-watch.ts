import { Topics } from '@telekit/core';
import {
  type StagePercentiles,
  VIDEO_STAGES,
  type VideoStage,
  type VideoStageFigures,
} from '@telekit/core/media';
import type { MediaStreams, StreamInfo } from '@telekit/core/schemas';
import { BehaviorSubject, type Observable } from 'rxjs';

/**
 * The stages of a video frame's trip, in order (the video half of the latency budget). The server
 * times the first three, this page the rest; together they add up to glass-to-glass:
 *
 * | stage | from → to | measured by |
 * |---|---|---|
 * | `render` | the render starts (the stamp in the picture) → the frame is handed to the encoder | the source (the sim sidecar) |
 * | `encode` | handed to the encoder → its last RTP packet reaches the SFU | the source, the SFU's packet trace |
 * | `sfu` | its last packet reaches the SFU → leaves for this viewer | the SFU's packet traces |
 * | `network` | leaves the SFU → this page has received it | this page, through the gateway's clock offset |
 * | `buffer` | received → handed to the compositor, less the decode: the jitter buffer | `requestVideoFrameCallback` |
 * | `decode` | into the decoder → decoded | `processingDuration` |
 * | `present` | handed to the compositor → expected on the glass | `expectedDisplayTime` |
 *
 * The same names and order as `@telekit/media-nvenc`'s `VIDEO_STAGES`.
 */
export { VIDEO_STAGES, type VideoStage, type VideoStageFigures } from '@telekit/core/media';
/** p50, p99 (nearest rank) and how many values they come from, ms. */
export type Percentiles = StagePercentiles;

/**
 * Where this viewer's frames spent their time, stage by stage, over the last few seconds. A stage
 * is timed only on frames where it can be measured honestly: the server's three on frames whose
 * server times reached this page (the SFU traces packets part of the time), `network` on those too,
 * the page's own on every frame WebRTC describes. Unmeasured stages are left out.
 */
export interface VideoBudget {
  /** The window the figures cover, ms. */
  readonly windowMs: number;
  /** In the order a frame passes them (see {@link VIDEO_STAGES}). */
  readonly stages: readonly VideoStageFigures[];
  /** The stamp in the picture → the glass, per frame (not a sum of the stages). */
  readonly glassToGlass: Percentiles | null;
}

/** What a viewer measures, as {@link VideoWatch.stats$} emits it. */
export interface VideoStats {
  readonly mode: 'webrtc' | 'hls' | 'none';
  /**
   * `idle` (not watching), `starting`, `playing`, `no-signal` (the server has no pictures, or none
   * came for 2 s), `unavailable` (video could not start; it retries by itself).
   */
  readonly state: 'idle' | 'starting' | 'playing' | 'no-signal' | 'unavailable';
  /** Frames presented since this watch started. */
  readonly frames: number;
  /** Frames presented over the last second. */
  readonly fps: number;
  readonly bitrateKbps: number;
  /** The RTP stream's jitter as the browser measures it, ms (WebRTC only). */
  readonly jitterMs: number | null;
  /** From `start()` to the first frame presented, ms (this watch's latest start), or null before one. */
  readonly firstFrameMs: number | null;
  readonly budget: VideoBudget;
  readonly error?: string;
}

/** What a watch needs of the gateway client. */
export interface MediaRequester {
  request<T>(topic: string, body: unknown): Promise<T>;
  /** Server clock minus this page's, ms (`GatewayClient.estimate`). */
  readonly estimate?: { readonly offset: number } | null | undefined;
}

/** One way of playing a stream, made by the view (a WebRTC consumer, an hls.js player). */
export interface VideoSession {
  readonly mode: 'webrtc' | 'hls';
  /** The SFU's consumer this session plays (WebRTC): its frames' server times come by this id. */
  readonly consumer?: string;
  /** Resolves at the first frame presented; rejects when none can come. */
  readonly firstFrame: Promise<void>;
  /** Bytes received so far and the receiver's jitter, if it knows them. */
  sample(): Promise<{ bytes: number; jitterMs: number | null } | undefined>;
  /** Fails the session later (a WebRTC connection that drops): the watch starts again. */
  readonly failed$?: Observable<string>;
  close(): void;
}

/** How the view plays a stream. */
export interface VideoPlayers {
  webrtc(stream: StreamInfo): Promise<VideoSession>;
  hls(stream: StreamInfo): Promise<VideoSession>;
}

/**
 * One frame as it was presented, from `requestVideoFrameCallback` (times in ms of this page's
 * `performance.now()`; absent where the browser does not say).
 */
export interface PresentedFrame {
  /** When the callback ran. */
  readonly now: number;
  /**
   * The stamp in the picture → the glass, ms (read by `StampReader`, clock offset applied), if
   * stamped and read (a view may read only some frames' stamps: a frame without one is joined with
   * its server times unchecked).
   */
  readonly glassToGlassMs?: number;
  readonly rtpTimestamp?: number;
  readonly receiveTime?: number;
  /** Decode time, s (as the browser reports it). */
  readonly processingDuration?: number;
  readonly presentationTime?: number;
  readonly expectedDisplayTime?: number;
}

/** One frame as the server saw it (ms, the server's clock): an entry of `/media/stats`' `frames`. */
export interface ServerFrame {
  readonly rtpTimestamp: number;
  readonly capturedAt?: number;
  readonly readyAt?: number;
  readonly sentAt?: number;
  readonly sfuInAt?: number;
  readonly sfuOutAt: number;
}

/** The `/media/stats` answer, as far as a watch reads it. */
interface MediaStatsAnswer {
  streams: { stream: string; state: string }[];
  frames?: { consumer: string; frames: ServerFrame[] }[];
}

/** Options of {@link VideoWatch}. */
export interface VideoWatchOptions {
  client: MediaRequester;
  players: VideoPlayers;
  /** The stream to watch; default the first the server offers. */
  stream?: string;
  /** `auto` (WebRTC, then HLS), `webrtc` or `hls`. Default `auto`. */
  mode?: 'auto' | 'webrtc' | 'hls';
  /** How far back the figures look, ms. Default 5 000. */
  windowMs?: number;
  /** How often to sample the receiver and ask the server for its figures, ms. Default 1 000. */
  sampleEveryMs?: number;
  /** After a failure, try again this long after, ms. Default 3 000. */
  retryMs?: number;
  /** This page's clock, ms (`performance.now`). */
  now?: () => number;
  /** `performance.timeOrigin`: page times + this = ms since the epoch on this page's clock. */
  timeOrigin?: number;
}

/** p50/p99 by nearest rank, or null for none. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: q(0.5), p99: q(0.99), count: sorted.length };
}

/** A stamp and a server capture time agree within this, ms (the stamp holds whole ms). */
const SAME_FRAME_MS = 2;

/**
 * A presented frame whose server times are still incomplete is joined with what there is once it
 * is this old, ms (a source that reports no timings, say).
 */
const PARTIAL_AFTER_MS = 1_500;

/**
 * The watch sequence of a video stream, without a DOM: ask the server what it offers, play the
 * stream over WebRTC (`players.webrtc`), fall back to HLS where WebRTC does not come up (`auto`),
 * start again after a failure, stop when told — and measure what the viewer sees: frame rate,
 * bitrate, glass-to-glass, and each stage of the frames' trip ({@link VideoBudget}), joining this
 * page's timings of each frame (from `presented`) with the server's (from `/media/stats`) by RTP
 * timestamp, checked against the stamp in the picture.
 *
 * A view (`<telekit-camera-viewer>`) makes the players with its `<video>` and calls `presented` from
 * `requestVideoFrameCallback`; another framework's view can do the same.
 *
 * @example
 * ```ts
 * const watch = new VideoWatch({ client, players, stream: 'sim-camera' });
 * watch.stats$.subscribe((s) => console.log(s.state, s.fps, s.budget.stages));
 * watch.start();
 * // … watch.stop() releases the stream: the server stops encoding it when nobody else watches.
 * ```
 */
export class VideoWatch {
  readonly #o: Required<Omit<VideoWatchOptions, 'stream' | 'timeOrigin'>> & {
    stream?: string;
    timeOrigin: number;
  };
  readonly #stats: BehaviorSubject<VideoStats>;
  /** What the watch measures; emits on every change of state and once a second. */
  readonly stats$: Observable<VideoStats>;
  #session: VideoSession | undefined;
  #stream: string | undefined;
  #generation = 0;
  #watching = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt = 0;
  #firstFrameSeen = false;
  #frameTimes: number[] = [];
  #lastFrameAt = 0;
  #lastBytes: { at: number; bytes: number } | undefined;
  #serverState = 'starting';
  /** Presented frames still waiting for their server times, by RTP timestamp. */
  #pending = new Map<number, { at: number; frame: PresentedFrame; capturedAt?: number }>();
  #windows = new Map<VideoStage | 'glassToGlass', { at: number; ms: number }[]>();

  constructor(options: VideoWatchOptions) {
    this.#o = {
      mode: 'auto',
      windowMs: 5_000,
      sampleEveryMs: 1_000,
      retryMs: 3_000,
      now: () => performance.now(),
      ...options,
      timeOrigin: options.timeOrigin ?? performance.timeOrigin,
    };
    this.#stats = new BehaviorSubject<VideoStats>({
      mode: 'none',
      state: 'idle',
      frames: 0,
      fps: 0,
      bitrateKbps: 0,
      jitterMs: null,
      firstFrameMs: null,
      budget: { windowMs: this.#o.windowMs, stages: [], glassToGlass: null },
    });
    this.stats$ = this.#stats.asObservable();
  }

  /** The latest figures. */
  get stats(): VideoStats {
    return this.#stats.value;
  }

  /** Starts watching (nothing if it is). */
  start(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#startedAt = this.#o.now();
    this.#firstFrameSeen = false;
    this.#set({ state: 'starting', firstFrameMs: null, error: undefined });
    this.#timer ??= setInterval(() => void this.#sample(), this.#o.sampleEveryMs);
    this.#begin(0);
  }

  /** Stops watching: the session closes and the server may stop encoding. Safe to call twice. */
  stop(): void {
    this.#watching = false;
    this.#end();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#set({ state: 'idle', mode: 'none', fps: 0, bitrateKbps: 0 });
  }

  /** Stops for good and completes `stats$`. */
  close(): void {
    this.stop();
    this.#stats.complete();
  }

  /** The view presented a frame of the current session. */
  presented(frame: PresentedFrame): void {
    if (!this.#session && !this.#watching) return;
    const now = frame.now;
    this.#lastFrameAt = now;
    this.#frameTimes.push(now);
    while (this.#frameTimes.length && now - this.#frameTimes[0]! > 1_000) this.#frameTimes.shift();
    const g2g = frame.glassToGlassMs;
    if (g2g !== undefined) this.#add('glassToGlass', now, g2g);
    // This page's own stages, on every frame the browser describes.
    const { receiveTime, presentationTime, expectedDisplayTime, processingDuration } = frame;
    if (processingDuration !== undefined) this.#add('decode', now, processingDuration * 1000);
    if (receiveTime !== undefined && presentationTime !== undefined)
      this.#add('buffer', now, presentationTime - receiveTime - (processingDuration ?? 0) * 1000);
    if (presentationTime !== undefined && expectedDisplayTime !== undefined)
      this.#add('present', now, expectedDisplayTime - presentationTime);
    // The rest waits for the server's times of this frame.
    if (frame.rtpTimestamp !== undefined && receiveTime !== undefined) {
      const shown = expectedDisplayTime ?? now;
      this.#pending.set(frame.rtpTimestamp, {
        at: now,
        frame,
        ...(g2g !== undefined ? { capturedAt: this.#serverTime(shown) - g2g } : {}),
      });
    }
    const first = this.#firstFrameSeen ? this.stats.firstFrameMs : now - this.#startedAt;
    this.#firstFrameSeen = true;
    this.#set({
      frames: this.stats.frames + 1,
      firstFrameMs: first,
      ...(this.stats.state !== 'playing' && this.#serverState !== 'no-signal'
        ? { state: 'playing' as const }
        : {}),
      error: undefined,
    });
  }

  /**
   * The server's times of frames it sent this viewer (from `/media/stats`). A frame is joined once
   * the server knows all of its times (the source's come about a second after the frame), or with
   * what it knows once the frame is `PARTIAL_AFTER_MS` (1.5 s) old.
   */
  serverFrames(frames: readonly ServerFrame[]): void {
    const now = this.#o.now();
    for (const f of frames) {
      const p = this.#pending.get(f.rtpTimestamp);
      if (!p) continue;
      if (f.sentAt === undefined && now - p.at < PARTIAL_AFTER_MS) continue;
      // The same picture? The stamp says when it was rendered; so does the server.
      if (p.capturedAt !== undefined && f.capturedAt !== undefined) {
        if (Math.abs(p.capturedAt - f.capturedAt) > SAME_FRAME_MS) continue;
      }
      this.#pending.delete(f.rtpTimestamp);
      const at = p.at;
      if (f.capturedAt !== undefined && f.sentAt !== undefined)
        this.#add('render', at, f.sentAt - f.capturedAt);
      if (f.sentAt !== undefined && f.sfuInAt !== undefined) this.#add('encode', at, f.sfuInAt - f.sentAt);
      if (f.sfuInAt !== undefined) this.#add('sfu', at, f.sfuOutAt - f.sfuInAt);
      this.#add('network', at, this.#serverTime(p.frame.receiveTime!) - f.sfuOutAt);
    }
    const from = this.#o.now() - this.#o.windowMs;
    for (const [rtp, p] of this.#pending) if (p.at < from) this.#pending.delete(rtp);
  }

  /** The figures over the window ending now. */
  budget(): VideoBudget {
    const now = this.#o.now();
    const stages: VideoStageFigures[] = [];
    for (const stage of VIDEO_STAGES) {
      const p = percentiles(this.#values(stage, now));
      if (p) stages.push({ stage, ...p });
    }
    return {
      windowMs: this.#o.windowMs,
      stages,
      glassToGlass: percentiles(this.#values('glassToGlass', now)),
    };
  }

  /** A page time as ms on the server's clock. */
  #serverTime(pageMs: number): number {
    return this.#o.timeOrigin + pageMs + (this.#o.client.estimate?.offset ?? 0);
  }

  #add(key: VideoStage | 'glassToGlass', at: number, ms: number): void {
    if (!Number.isFinite(ms)) return;
    let w = this.#windows.get(key);
    if (!w) {
      w = [];
      this.#windows.set(key, w);
    }
    w.push({ at, ms });
    if (w.length > 2_048) w.shift();
  }

  #values(key: VideoStage | 'glassToGlass', now: number): number[] {
    const w = this.#windows.get(key);
    if (!w) return [];
    const from = now - this.#o.windowMs;
    while (w.length && w[0]!.at < from) w.shift();
    return w.map((v) => v.ms);
  }

  #set(patch: Partial<VideoStats>): void {
    this.#stats.next({ ...this.#stats.value, ...patch });
  }

  #end(): void {
    this.#generation++;
    clearTimeout(this.#retry);
    this.#session?.close();
    this.#session = undefined;
    this.#pending.clear();
  }

  #begin(delayMs: number): void {
    this.#end();
    const generation = this.#generation;
    this.#retry = setTimeout(() => void this.#run(generation), delayMs);
  }

  async #run(generation: number): Promise<void> {
    const { client, players, mode } = this.#o;
    const current = () => generation === this.#generation && this.#watching;
    const errors: string[] = [];
    try {
      const { streams } = await client.request<MediaStreams>(Topics.mediaStreams.name, {});
      const stream = this.#o.stream ? streams.find((s) => s.id === this.#o.stream) : streams[0];
      if (!stream)
        throw new Error(
          this.#o.stream ? `no stream named ${this.#o.stream}` : 'the server offers no streams',
        );
      this.#stream = stream.id;
      let session: VideoSession | undefined;
      if (mode !== 'hls') {
        try {
          session = await this.#open(players.webrtc(stream), generation);
        } catch (error) {
          errors.push(`WebRTC: ${(error as Error).message}`);
          if (mode === 'webrtc' || !current()) throw new Error(errors.at(-1));
        }
      }
      if (!session) {
        if (!stream.hls) throw new Error('the stream has no HLS copy');
        session = await this.#open(players.hls(stream), generation);
      }
    } catch (error) {
      if (!current()) return;
      const message = [...new Set([...errors, (error as Error).message])].join('; ');
      this.#set({ state: 'unavailable', mode: 'none', error: message });
      this.#begin(this.#o.retryMs);
    }
  }

  /** Waits for a session's first frame; keeps it as the current one, or closes it if it is stale. */
  async #open(made: Promise<VideoSession>, generation: number): Promise<VideoSession> {
    const session = await made;
    const stale = () => generation !== this.#generation || !this.#watching;
    if (stale()) {
      session.close();
      throw new Error('stopped');
    }
    this.#session = session;
    session.failed$?.subscribe((why) => {
      if (this.#session !== session || stale()) return;
      this.#set({ state: 'unavailable', error: `${why}; reconnecting` });
      this.#begin(1_000);
    });
    try {
      await session.firstFrame;
    } catch (error) {
      if (this.#session === session) this.#session = undefined;
      session.close();
      throw error;
    }
    if (stale()) throw new Error('stopped');
    this.#set({ mode: session.mode });
    return session;
  }

  /** Once a second: fps, bitrate, jitter, the server's word on the stream and its frames' times. */
  async #sample(): Promise<void> {
    const session = this.#session;
    const now = this.#o.now();
    const fps = this.#frameTimes.filter((t) => now - t <= 1_000).length;
    let { bitrateKbps, jitterMs } = this.stats;
    const b = await session?.sample().catch(() => undefined);
    if (b) {
      if (this.#lastBytes && b.bytes >= this.#lastBytes.bytes)
        bitrateKbps = Math.round(((b.bytes - this.#lastBytes.bytes) * 8) / (now - this.#lastBytes.at));
      this.#lastBytes = { at: now, bytes: b.bytes };
      jitterMs = b.jitterMs;
    }
    if (session) {
      const answer = await this.#o.client
        .request<MediaStatsAnswer>('/media/stats', {})
        .catch(() => undefined);
      const mine = answer?.streams.find((s) => s.stream === this.#stream);
      if (mine) this.#serverState = mine.state;
      const frames = answer?.frames?.find((f) => f.consumer === session.consumer)?.frames;
      if (frames && session.consumer) this.serverFrames(frames);
    }
    if (!this.#watching) return;
    const stale = this.#lastFrameAt > 0 && now - this.#lastFrameAt > 2_000;
    const state = !session
      ? this.stats.state
      : this.#serverState === 'no-signal' || stale
        ? 'no-signal'
        : this.stats.frames > 0
          ? 'playing'
          : this.stats.state;
    this.#set({ fps, bitrateKbps, jitterMs, state, budget: this.budget() });
  }
}
