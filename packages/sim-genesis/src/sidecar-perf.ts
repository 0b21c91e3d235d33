import { type Percentiles, TimeWindow } from '@telekit/core';
import { Subject } from 'rxjs';

/** p50, p99 and how many values they come from: `@telekit/core`'s. */
export type { Percentiles } from '@telekit/core';

/** The sidecar's CPU by part, in cores (1 = one core busy), over the last sample (about a second). */
export interface SidecarCpu {
  /** The engine's steps. */
  readonly physics: number;
  /** The camera: the render thread and the software renderer's threads (llvmpipe). */
  readonly render: number;
  /** The rest of the main thread: the protocol, commands, state events, frames out. */
  readonly loop: number;
  /** Any other thread. */
  readonly other: number;
  /** The whole process. */
  readonly total: number;
}

/** The camera as the sidecar reports it. */
export interface SidecarCameraPerf {
  /** The camera is on (a consumer wants it). */
  readonly on: boolean;
  /** Connected to its sink (the encoder's input), for a `tcp:` sink. */
  readonly connected: boolean;
  /** Frames rendered since the sidecar started (off, this does not move). */
  readonly rendered: number;
  /** Frames handed to the sink. */
  readonly sent: number;
  /** Frames rendered and not sent (the sink was busy or gone) or not rendered (still rendering the last). */
  readonly dropped: number;
  /** Frames sent per second over the last sample. */
  readonly fps: number;
  /** Render start → pixels ready, ms, over the last {@link PERF_WINDOW_MS}. */
  readonly renderMs: Percentiles | null;
}

/** What `SidecarSimulator.perf` reports. */
export interface SidecarPerf {
  readonly cpu: SidecarCpu;
  readonly camera: SidecarCameraPerf;
  /** When this was sampled (Node's clock, ms). */
  readonly at: number;
}

/**
 * One frame the camera handed to its sink, ms on Node's clock. `connection` counts the sink
 * connections the sidecar made; `index` counts frames on that connection from 0, which is the
 * encoder's own frame number (and so its RTP timestamp's, at a constant frame rate).
 */
export interface FrameTiming {
  readonly seq: number;
  readonly connection: number;
  readonly index: number;
  /** The render started: the time stamped into the picture. */
  readonly capturedAt: number;
  /** The pixels were ready. */
  readonly readyAt: number;
  /** Handed to the sink's socket. */
  readonly sentAt: number;
}

/** How far back the render figures look, ms. */
export const PERF_WINDOW_MS = 5_000;

/** The `perf` op's answer (see the sidecar's `perf.py`). */
export type WirePerf = {
  cpu: { physicsMs: number; renderMs: number; loopMs: number; otherMs: number; totalMs: number };
  camera: { on: boolean; connected: boolean; rendered: number; sent: number; dropped: number };
  frames: [number, number, number, number, number, number][];
};

/**
 * Turns the sidecar's cumulative `perf` answers into rates and windows: CPU per part in cores
 * between two samples, frames sent per second, render times over the last seconds, and each new
 * frame on `frames$`.
 */
export class SidecarPerfMeter {
  readonly frames$ = new Subject<FrameTiming>();
  #last: { at: number; cpu: WirePerf['cpu']; sent: number } | undefined;
  #since = 0;
  /** Render times by when the frame was sent. */
  readonly #render = new TimeWindow(PERF_WINDOW_MS);
  #perf: SidecarPerf | undefined;

  /** The frame number to ask the sidecar for frames after. */
  get since(): number {
    return this.#since;
  }

  get perf(): SidecarPerf | undefined {
    return this.#perf;
  }

  /** A new sidecar process (a restart): its counters start again from zero. */
  reset(): void {
    this.#last = undefined;
    this.#since = 0;
  }

  add(at: number, wire: WirePerf): SidecarPerf {
    const last = this.#last;
    const span = last ? Math.max(1, at - last.at) : 0;
    const rate = (now: number, before: number | undefined) =>
      last && before !== undefined ? Math.max(0, now - before) / span : 0;
    for (const [seq, connection, index, capturedAt, readyAt, sentAt] of wire.frames) {
      this.#since = Math.max(this.#since, seq);
      this.#render.add(sentAt, readyAt - capturedAt);
      this.frames$.next({ seq, connection, index, capturedAt, readyAt, sentAt });
    }
    const cpu = wire.cpu;
    this.#perf = {
      at,
      cpu: {
        physics: rate(cpu.physicsMs, last?.cpu.physicsMs),
        render: rate(cpu.renderMs, last?.cpu.renderMs),
        loop: rate(cpu.loopMs, last?.cpu.loopMs),
        other: rate(cpu.otherMs, last?.cpu.otherMs),
        total: rate(cpu.totalMs, last?.cpu.totalMs),
      },
      camera: {
        ...wire.camera,
        fps: rate(wire.camera.sent, last?.sent) * 1000,
        renderMs: this.#render.percentiles(at),
      },
    };
    this.#last = { at, cpu, sent: wire.camera.sent };
    return this.#perf;
  }

  close(): void {
    this.frames$.complete();
  }
}
