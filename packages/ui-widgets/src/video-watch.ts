/**
 * The watch sequence of a video stream, headless: which stream, WebRTC then HLS, retries, and what
 * the viewer measures ({@link VideoStats}). The latency budget's stages and their joining with the
 * server's frame times are in `video-budget.ts`; the view (`<telekit-camera-viewer>`) makes the
 * players and reports presented frames.
 *
 * @module
 */
import { Topics } from '@telekit/core';
import type { MediaStreams, StreamInfo } from '@telekit/core/schemas';
import { BehaviorSubject, type Observable } from 'rxjs';
import { LatencyBudget, type PresentedFrame, type ServerFrame, type VideoBudget } from './video-budget.js';

export {
  type Percentiles,
  type PresentedFrame,
  percentiles,
  type ServerFrame,
  VIDEO_STAGES,
  type VideoBudget,
  type VideoStage,
  type VideoStageFigures,
} from './video-budget.js';

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
  /** The stages of this watch's frames. */
  readonly #budget: LatencyBudget;

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
    this.#budget = new LatencyBudget({
      windowMs: this.#o.windowMs,
      now: () => this.#o.now(),
      serverTime: (pageMs) => this.#serverTime(pageMs),
    });
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
    this.#budget.presented(frame);
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
    this.#budget.serverFrames(frames);
  }

  /** The figures over the window ending now. */
  budget(): VideoBudget {
    return this.#budget.budget();
  }

  /** A page time as ms on the server's clock. */
  #serverTime(pageMs: number): number {
    return this.#o.timeOrigin + pageMs + (this.#o.client.estimate?.offset ?? 0);
  }

  #set(patch: Partial<VideoStats>): void {
    this.#stats.next({ ...this.#stats.value, ...patch });
  }

  #end(): void {
    this.#generation++;
    clearTimeout(this.#retry);
    this.#session?.close();
    this.#session = undefined;
    this.#budget.clear();
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
