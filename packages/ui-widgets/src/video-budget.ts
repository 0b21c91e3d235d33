/**
 * The latency budget of a viewer's frames: where each frame spent its time, stage by stage
 * ({@link VIDEO_STAGES}), over a sliding window. This page's stages come with each presented frame;
 * the server's come later from `/media/stats` and are joined to the frame by RTP timestamp, checked
 * against the stamp in the picture. Percentiles by nearest rank. No DOM: `VideoWatch` feeds it,
 * and owns one per watch.
 *
 * @module
 */
import { type Percentiles, TimeWindow } from '@telekit/core';
import { VIDEO_STAGES, type VideoStage, type VideoStageFigures } from '@telekit/core/media';
import type { ServerFrame } from '@telekit/core/schemas';

/** p50, p99 (nearest rank) and how many values they come from, ms: `@telekit/core`'s. */
export { type Percentiles, percentiles } from '@telekit/core';
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
/** One frame as the server saw it (ms, the server's clock): an entry of `/media/stats`' `frames`. */
export type { ServerFrame } from '@telekit/core/schemas';

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

/** A stamp and a server capture time agree within this, ms (the stamp holds whole ms). */
const SAME_FRAME_MS = 2;

/**
 * A presented frame whose server times are still incomplete is joined with what there is once it
 * is this old, ms (a source that reports no timings, say).
 */
const PARTIAL_AFTER_MS = 1_500;

/** Options of {@link LatencyBudget}. */
export interface LatencyBudgetOptions {
  /** How far back the figures look, ms (more than 0). */
  windowMs: number;
  /** This page's clock, ms (`performance.now`). */
  now: () => number;
  /** A page time as ms on the server's clock. */
  serverTime: (pageMs: number) => number;
}

/** The stages of a viewer's frames over the last `windowMs`, joined from this page's and the server's times. */
export class LatencyBudget {
  readonly #o: LatencyBudgetOptions;
  /** Presented frames still waiting for their server times, by RTP timestamp. */
  #pending = new Map<number, { at: number; frame: PresentedFrame; capturedAt?: number }>();
  /** Each stage's times, and glass-to-glass, over `windowMs` (at most 2 048 of each). */
  readonly #windows: ReadonlyMap<VideoStage | 'glassToGlass', TimeWindow>;

  constructor(options: LatencyBudgetOptions) {
    this.#o = options;
    // Made here, so that a bad `windowMs` is refused now rather than at the first frame.
    this.#windows = new Map(
      [...VIDEO_STAGES, 'glassToGlass' as const].map((key) => [key, new TimeWindow(options.windowMs, 2_048)]),
    );
  }

  /**
   * A frame presented: glass-to-glass and this page's own stages (buffer, decode, present) at once;
   * the rest once the server's times of the frame come ({@link serverFrames}).
   */
  presented(frame: PresentedFrame): void {
    const now = frame.now;
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
        ...(g2g !== undefined ? { capturedAt: this.#o.serverTime(shown) - g2g } : {}),
      });
    }
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
      this.#add('network', at, this.#o.serverTime(p.frame.receiveTime!) - f.sfuOutAt);
    }
    const from = this.#o.now() - this.#o.windowMs;
    for (const [rtp, p] of this.#pending) if (p.at < from) this.#pending.delete(rtp);
  }

  /** The figures over the window ending now. */
  budget(): VideoBudget {
    const now = this.#o.now();
    const stages: VideoStageFigures[] = [];
    for (const stage of VIDEO_STAGES) {
      const p = this.#percentiles(stage, now);
      if (p) stages.push({ stage, ...p });
    }
    return {
      windowMs: this.#o.windowMs,
      stages,
      glassToGlass: this.#percentiles('glassToGlass', now),
    };
  }

  /** Forgets the frames still waiting for their server times (their session ended). */
  clear(): void {
    this.#pending.clear();
  }

  #add(key: VideoStage | 'glassToGlass', at: number, ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#windows.get(key)!.add(at, ms);
  }

  #percentiles(key: VideoStage | 'glassToGlass', now: number): Percentiles | null {
    return this.#windows.get(key)!.percentiles(now);
  }
}
