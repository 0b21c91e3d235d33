import { TimeWindow } from '@telekit/core';
import { SERVER_VIDEO_STAGES, type VideoStageFigures } from '@telekit/core/media';
import type { ServerFrame } from '@telekit/core/schemas';

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
export {
  SERVER_VIDEO_STAGES,
  VIDEO_STAGES,
  type VideoStage,
  type VideoStageFigures,
} from '@telekit/core/media';

/**
 * One frame as the server saw it, for a viewer to finish the budget with (ms, the server's clock):
 * an entry of the `/media/stats` answer's `frames`, typed by its schema in `@telekit/core/schemas`.
 */
export type { ServerFrame } from '@telekit/core/schemas';

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

/** Options of {@link VideoTimeline}. */
export interface VideoTimelineOptions {
  /** Frames from one keyframe to the next: the encoder's GOP, counted in frames. */
  gop: number;
  /** How far back the figures look, ms. Default 5 000. */
  windowMs?: number;
  /** How many frames to remember (per viewer, and for the join). Default 256. */
  keep?: number;
}

/** One run of the encoder (a process), from its start. */
interface Run {
  readonly startedAt: number;
  /** Keyframes seen so far: the n-th is frame n × gop. */
  keyframes: number;
  readonly keyIndex: Map<number, number>;
  /** Frame number → RTP timestamp, for the frames whose number is known. */
  readonly byIndex: Map<number, number>;
  /** Marker packets seen back to back (the packet trace on throughout), oldest first. */
  segment?: { marks: number[]; base?: { at: number; index: number } };
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
 * The join: a frame's number in its encoder run. The source numbers the frames it sends on each
 * connection to the encoder from 0 (`FrameTiming.index`); the encoder turns each into exactly one
 * frame (no frame made up or dropped) and makes every `gop`-th a keyframe, starting with the first.
 * The SFU's keyframe trace (always on) therefore numbers the keyframes — the n-th of a run is frame
 * n × gop — and while its packet trace is on, the frames that follow or precede a keyframe back to
 * back are numbered from it. A source frame is joined to the RTP frame of the same number; frames
 * outside a traced stretch with a keyframe stay unjoined (never guessed). A connection belongs to
 * the encoder run that started last before the frame was sent. All times are on the app's clock
 * (the SFU's monotonic trace times are moved onto it).
 */
export class VideoTimeline {
  readonly #gop: number;
  #tracing = false;
  readonly #keep: number;
  readonly #runs: Run[] = [];
  readonly #frames: Recent<number, Known>;
  readonly #out = new Map<string, Recent<number, ServerFrame>>();
  readonly #stages: Record<(typeof SERVER_VIDEO_STAGES)[number], TimeWindow>;
  readonly windowMs: number;

  constructor(options: VideoTimelineOptions) {
    this.#gop = Math.max(1, Math.round(options.gop));
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
    this.#runs.push({
      startedAt: at,
      keyframes: 0,
      keyIndex: new Recent(64),
      byIndex: new Recent(this.#keep * 2),
      ...(this.#tracing ? { segment: { marks: [] } } : {}),
    });
    if (this.#runs.length > 8) this.#runs.shift();
  }

  /** The packet trace (every packet, not only keyframes) turned on or off: a new stretch begins. */
  tracing(on: boolean): void {
    this.#tracing = on;
    const run = this.#runs.at(-1);
    if (run) run.segment = on ? { marks: [] } : undefined;
  }

  /** A keyframe packet reached the SFU at `at` (every packet of a keyframe may be reported). */
  keyframe(rtpTimestamp: number, at: number): void {
    const run = this.#runs.at(-1);
    if (!run || at < run.startedAt || run.keyIndex.has(rtpTimestamp)) return;
    run.keyIndex.set(rtpTimestamp, run.keyframes * this.#gop);
    run.keyframes++;
  }

  /**
   * A frame's last packet (the marker) reached the SFU at `at`; `traced` while the packet trace is
   * on (so this marker follows the previous one back to back).
   */
  sfuIn(rtpTimestamp: number, at: number, traced = false): void {
    const known = this.#known(rtpTimestamp);
    known.sfuInAt = at;
    if (known.sentAt !== undefined) this.#stages.encode.add(at, at - known.sentAt);
    const run = this.#runs.at(-1);
    if (!run) return;
    const key = run.keyIndex.get(rtpTimestamp);
    if (key !== undefined) run.byIndex.set(key, rtpTimestamp);
    const seg = traced ? run.segment : undefined;
    if (!seg || seg.marks.at(-1) === rtpTimestamp) return;
    seg.marks.push(rtpTimestamp);
    const here = seg.marks.length - 1;
    if (key !== undefined) {
      if (seg.base && seg.base.index + (here - seg.base.at) !== key) {
        // Two keyframes that do not agree: a packet went missing; number nothing from this stretch.
        run.segment = undefined;
        return;
      }
      if (!seg.base) {
        seg.base = { at: here, index: key };
        // The frames before the keyframe in this stretch, counted back from it.
        for (let i = 0; i < here; i++) run.byIndex.set(key - (here - i), seg.marks[i]!);
      }
    }
    if (seg.base) run.byIndex.set(seg.base.index + (here - seg.base.at), rtpTimestamp);
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

  /** The RTP timestamp a source frame went out with, if its number in its run is known. */
  rtpTimestampOf(t: Pick<FrameTiming, 'index' | 'sentAt'>): number | undefined {
    let run: Run | undefined;
    for (const r of this.#runs) if (r.startedAt <= t.sentAt) run = r;
    return run?.byIndex.get(t.index);
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
