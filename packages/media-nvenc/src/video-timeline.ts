import { type Percentiles, TimeWindow } from './time-window.js';

/**
 * The stages of a video frame's trip, in order; each is timed per frame and shown as p50/p99 over
 * the last few seconds (the video half of the latency budget):
 *
 * | stage | from → to | measured by |
 * |---|---|---|
 * | `render` | the render starts (the stamp drawn into the picture) → the frame is handed to the encoder's input | the source (the sim sidecar) |
 * | `encode` | the frame is handed to the encoder's input → its last RTP packet reaches the SFU | the source's send time, the SFU's packet trace |
 * | `sfu` | its last packet reaches the SFU → leaves for a viewer | the SFU's packet traces |
 * | `network` | leaves the SFU → the viewer has received it | the viewer, through the gateway's clock offset |
 * | `buffer` | received → handed to the compositor, less the decode (the jitter buffer's wait) | the viewer (`requestVideoFrameCallback`) |
 * | `decode` | into the decoder → decoded | the viewer (`processingDuration`) |
 * | `present` | handed to the compositor → expected on the glass | the viewer |
 *
 * The first three are the server's ({@link SERVER_VIDEO_STAGES}); the viewer adds the rest.
 * Together they add up to glass-to-glass: the stamp → the glass.
 */
export const VIDEO_STAGES = ['render', 'encode', 'sfu', 'network', 'buffer', 'decode', 'present'] as const;

/** One stage of a frame's trip (see {@link VIDEO_STAGES}). */
export type VideoStage = (typeof VIDEO_STAGES)[number];

/** The stages the server measures itself. */
export const SERVER_VIDEO_STAGES = ['render', 'encode', 'sfu'] as const satisfies readonly VideoStage[];

/** One stage's figures over the window, ms. */
export interface VideoStageFigures extends Percentiles {
  readonly stage: VideoStage;
}

/** Where a stream's frames spent their time on the server, stage by stage. */
export interface ServerVideoBudget {
  /** The window the figures cover, ms. */
  readonly windowMs: number;
  /** Each stage's p50/p99 over the frames timed in the window, in order; a stage nothing timed is left out. */
  readonly stages: readonly VideoStageFigures[];
}

/**
 * When a source made and sent one frame (ms, the app's clock): what a `MediaSource` may report as
 * `timings$` (the sim camera does). `index` counts frames on the sink connection from 0 — the
 * encoder's own frame number.
 */
export interface FrameTiming {
  readonly seq: number;
  readonly connection: number;
  readonly index: number;
  readonly capturedAt: number;
  readonly readyAt: number;
  readonly sentAt: number;
}

/** One frame as the server saw it, for a viewer to finish the budget with (ms, the server's clock). */
export interface ServerFrame {
  /** Its RTP timestamp: the key a viewer finds it by (`requestVideoFrameCallback`'s `rtpTimestamp`). */
  readonly rtpTimestamp: number;
  readonly capturedAt?: number;
  readonly readyAt?: number;
  readonly sentAt?: number;
  /** Its last packet reached the SFU. */
  readonly sfuInAt?: number;
  /** Its last packet left the SFU for this viewer. */
  readonly sfuOutAt: number;
}

/** Options of {@link VideoTimeline}. */
export interface VideoTimelineOptions {
  /** The stream's frame rate: frame `n` of an encoder run has RTP timestamp `first + n × 90 000 / fps`. */
  fps: number;
  /** How far back the figures look, ms. Default 5 000. */
  windowMs?: number;
  /** How many frames to remember (per viewer, and for the join). Default 256. */
  keep?: number;
}

interface Run {
  readonly startedAt: number;
  firstRtp?: number;
}

interface Known {
  capturedAt?: number;
  readyAt?: number;
  sentAt?: number;
  sfuInAt?: number;
}

/** A map that forgets its oldest entries past `cap`. */
class Recent<K, V> extends Map<K, V> {
  constructor(readonly cap: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.cap) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/**
 * Joins what the source, the encoder and the SFU each know of a frame, by its RTP timestamp, into
 * the server's stages ({@link SERVER_VIDEO_STAGES}) and, per viewer, the frames it was sent.
 *
 * The join: an encoder run's first RTP packet is its frame 0 (a keyframe: the SFU's keyframe trace
 * gives its timestamp), and at a constant frame rate frame `n` has `first + n × 90 000 / fps`; the
 * source numbers the frames it sends on each connection to the encoder from 0 (`FrameTiming.index`),
 * and a connection belongs to the encoder run that started last before the frame was sent. All
 * times are on the app's clock (the SFU's monotonic trace times are moved onto it).
 */
export class VideoTimeline {
  readonly #step: number;
  readonly #keep: number;
  readonly #runs: Run[] = [];
  readonly #frames: Recent<number, Known>;
  readonly #out = new Map<string, Recent<number, ServerFrame>>();
  readonly #stages: Record<(typeof SERVER_VIDEO_STAGES)[number], TimeWindow>;
  readonly windowMs: number;

  constructor(options: VideoTimelineOptions) {
    this.#step = 90_000 / options.fps;
    this.#keep = options.keep ?? 256;
    this.windowMs = options.windowMs ?? 5_000;
    this.#frames = new Recent(this.#keep);
    this.#stages = {
      render: new TimeWindow(this.windowMs),
      encode: new TimeWindow(this.windowMs),
      sfu: new TimeWindow(this.windowMs),
    };
  }

  /** An encoder (re)started at `at`: its first keyframe will be its frame 0. */
  encoderStarted(at: number): void {
    this.#runs.push({ startedAt: at });
    if (this.#runs.length > 8) this.#runs.shift();
  }

  /** A keyframe packet reached the SFU at `at`. */
  keyframe(rtpTimestamp: number, at: number): void {
    const run = this.#runs.at(-1);
    if (run && run.firstRtp === undefined && at >= run.startedAt) run.firstRtp = rtpTimestamp;
  }

  /** A frame's last packet (the marker) reached the SFU at `at`. */
  sfuIn(rtpTimestamp: number, at: number): void {
    const known = this.#known(rtpTimestamp);
    known.sfuInAt = at;
    if (known.sentAt !== undefined) this.#stages.encode.add(at, at - known.sentAt);
  }

  /** A frame's last packet left the SFU for `consumer` at `at`. */
  sfuOut(consumer: string, rtpTimestamp: number, at: number): void {
    let frames = this.#out.get(consumer);
    if (!frames) {
      frames = new Recent(this.#keep);
      this.#out.set(consumer, frames);
    }
    const known = this.#frames.get(rtpTimestamp);
    if (known?.sfuInAt !== undefined) this.#stages.sfu.add(at, at - known.sfuInAt);
    frames.set(rtpTimestamp, { rtpTimestamp, ...known, sfuOutAt: at });
  }

  /** The source sent a frame (its timings come a moment later than the packets, or earlier). */
  sourceFrame(t: FrameTiming): void {
    this.#stages.render.add(t.sentAt, t.sentAt - t.capturedAt);
    const rtp = this.rtpTimestampOf(t);
    if (rtp === undefined) return;
    const known = this.#known(rtp);
    Object.assign(known, { capturedAt: t.capturedAt, readyAt: t.readyAt, sentAt: t.sentAt });
    if (known.sfuInAt !== undefined) this.#stages.encode.add(t.sentAt, known.sfuInAt - t.sentAt);
    for (const frames of this.#out.values()) {
      const f = frames.get(rtp);
      if (f) frames.set(rtp, { ...f, ...known, sfuOutAt: f.sfuOutAt });
    }
  }

  /** The RTP timestamp a source frame goes out with, once its encoder run's first one is known. */
  rtpTimestampOf(t: Pick<FrameTiming, 'index' | 'sentAt'>): number | undefined {
    let run: Run | undefined;
    for (const r of this.#runs) if (r.startedAt <= t.sentAt) run = r;
    if (run?.firstRtp === undefined) return undefined;
    return (run.firstRtp + Math.round(t.index * this.#step)) % 2 ** 32;
  }

  /** A viewer has gone. */
  forget(consumer: string): void {
    this.#out.delete(consumer);
  }

  /** The frames sent to `consumer` whose last packet left after `since` (ms), oldest first. */
  framesFor(consumer: string, since = 0): ServerFrame[] {
    return [...(this.#out.get(consumer)?.values() ?? [])].filter((f) => f.sfuOutAt > since);
  }

  /** The server's stages over the window ending at `now`. */
  budget(now: number): ServerVideoBudget {
    const stages: VideoStageFigures[] = [];
    for (const stage of SERVER_VIDEO_STAGES) {
      const p = this.#stages[stage].percentiles(now);
      if (p) stages.push({ stage, ...p });
    }
    return { windowMs: this.windowMs, stages };
  }

  #known(rtp: number): Known {
    let known = this.#frames.get(rtp);
    if (!known) {
      known = {};
      this.#frames.set(rtp, known);
    }
    return known;
  }
}
