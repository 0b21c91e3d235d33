import type { types } from 'mediasoup';
import type { VideoTimeline } from './video-timeline.js';

/** How often packet traces are on: for `onMs` of every `everyMs`. */
export interface TraceSampling {
  readonly onMs: number;
  readonly everyMs: number;
}

/** Options of {@link VideoTracer}. */
export interface VideoTracerOptions {
  producer: types.Producer;
  timeline: VideoTimeline;
  /** The app's clock (ms since the epoch, monotonic): the SFU's trace times are moved onto it. */
  now: () => number;
  /**
   * Packet traces cost the SFU worker and Node a little per packet (about 2 % of a core for a
   * 1.5 Mbit/s stream and one viewer, measured here), so they are on part of the time. Default on
   * for 1 500 ms of every 3 000 ms (a stretch must hold a keyframe to number its frames: keep `onMs`
   * longer than the GOP); `{ onMs: 1, everyMs: 1 }` keeps them on.
   */
  sampling?: TraceSampling;
}

interface TraceInfo {
  timestamp?: number;
  marker?: boolean;
}

/**
 * Feeds a {@link VideoTimeline} from mediasoup's packet traces: the producer's keyframes (always,
 * for the frame numbering), its marker packets (a frame's last) as they arrive, and each viewer's
 * as they leave.
 *
 * mediasoup stamps a trace with its worker's monotonic clock in whole ms (`uv_hrtime`, the clock of
 * Node's `performance.now()`): the offset to the app's clock is taken once, and half a ms added for
 * the truncation.
 */
export class VideoTracer {
  readonly #o: VideoTracerOptions;
  readonly #offset: number;
  readonly #consumers = new Set<types.Consumer>();
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #on = false;
  #closed = false;
  #offTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: VideoTracerOptions) {
    this.#o = options;
    this.#offset = options.now() - Number(process.hrtime.bigint()) / 1e6 + 0.5;
    const { producer } = options;
    producer.on('trace', (trace) => {
      const info = trace.info as TraceInfo;
      if (info.timestamp === undefined) return;
      const at = this.#at(trace.timestamp);
      if (trace.type === 'keyframe') options.timeline.keyframe(info.timestamp, at);
      if (info.marker) options.timeline.sfuIn(info.timestamp, at, this.#on);
    });
    const sampling = options.sampling ?? { onMs: 1_500, everyMs: 3_000 };
    if (sampling.onMs >= sampling.everyMs) {
      this.#set(true);
    } else {
      this.#timer = setInterval(() => {
        this.#set(true);
        this.#offTimer = setTimeout(() => this.#set(false), sampling.onMs);
        this.#offTimer.unref?.();
      }, sampling.everyMs);
      this.#timer.unref?.();
    }
  }

  /** Traces a viewer's consumer too (while packet traces are on); it is forgotten when it closes. */
  add(consumer: types.Consumer): void {
    if (this.#closed) return;
    this.#consumers.add(consumer);
    consumer.on('trace', (trace) => {
      const info = trace.info as TraceInfo;
      if (trace.direction === 'out' && info.marker && info.timestamp !== undefined)
        this.#o.timeline.sfuOut(consumer.id, info.timestamp, this.#at(trace.timestamp));
    });
    consumer.observer.once('close', () => {
      this.#consumers.delete(consumer);
      this.#o.timeline.forget(consumer.id);
    });
    if (this.#on) void consumer.enableTraceEvent(['rtp']).catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#offTimer);
  }

  #at(workerMs: number): number {
    return workerMs + this.#offset;
  }

  #set(on: boolean): void {
    if (this.#closed || on === this.#on) return;
    this.#on = on;
    const { producer } = this.#o;
    this.#o.timeline.tracing(on);
    if (!producer.closed)
      void producer.enableTraceEvent(on ? ['keyframe', 'rtp'] : ['keyframe']).catch(() => undefined);
    for (const c of this.#consumers)
      if (!c.closed) void c.enableTraceEvent(on ? ['rtp'] : []).catch(() => undefined);
  }
}
