/**
 * When the 3D view draws, and how well: asks for an animation frame only when there is something to
 * draw (a change, poses moving between samples, or a simulation in the page), lets a
 * {@link RenderGovernor} say whether a frame is due and at which quality level, times each frame for
 * it, and while the governor has paused drawing asks for no frame at all and looks again once a
 * second. Also the probe that tells a software WebGL (SwiftShader, llvmpipe) from a GPU, from which
 * the governor starts. The element supplies the drawing ({@link SimViewLoopHost}).
 *
 * @module
 */
import { type RENDER_LEVELS, RenderGovernor, type RenderState } from './render-governor.js';

/** The renderer's name, and whether it is a software one, from a throwaway context. */
export function probeRenderer(): { name: string; software: boolean } {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? undefined;
    if (!gl) return { name: 'none', software: true };
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { name, software: /swiftshader|llvmpipe|softpipe|software/i.test(name) };
  } catch {
    return { name: 'unknown', software: true };
  }
}

/** What the loop asks of the view. */
export interface SimViewLoopHost {
  /** Whether the view can draw (a renderer, on the page). */
  ready(): boolean;
  /** Whether every frame has something new (a simulation in the page). */
  continuous(): boolean;
  /** Whether the bodies are moving between telemetry samples. */
  moving(): boolean;
  /** Draws a frame for `now` at `level` (moving the bodies first). */
  draw(now: number, level: (typeof RENDER_LEVELS)[number]): void;
  /** The governor changed its level, paused or resumed. */
  changed(state: RenderState): void;
  /** The figures to show, once a second while drawing. */
  overlay(state: RenderState): void;
}

/** The frame loop of `<telekit-sim-view>`, around a {@link RenderGovernor}. */
export class SimViewLoop {
  readonly #host: SimViewLoopHost;
  #governor: RenderGovernor | undefined;
  #frame = 0;
  #dirty = false;
  #wake: ReturnType<typeof setTimeout> | undefined;
  #overlayAt = 0;

  constructor(host: SimViewLoopHost) {
    this.#host = host;
  }

  /** The governor's state, once started. */
  get state(): RenderState | undefined {
    return this.#governor?.state;
  }

  /**
   * Starts governing, at 30 fps without shadows for a `software` renderer (the view climbs if the
   * machine allows), else at the top level; `continuous` as {@link RenderGovernor.continuous}.
   */
  start(software: boolean, continuous: boolean): RenderState {
    this.#governor = new RenderGovernor({
      now: () => performance.now(),
      start: software ? 2 : 0,
      changed: (state) => {
        this.#host.changed(state);
        if (!state.paused) this.#dirty = true;
        this.schedule();
      },
    });
    this.#governor.continuous = continuous;
    return this.#governor.state;
  }

  /** A simulation in the page draws every frame: the governor judges its speed differently. */
  set continuous(continuous: boolean) {
    if (this.#governor) this.#governor.continuous = continuous;
  }

  /** The page's input ran `ms` late just now (a long task, a command sent late): drawing yields. */
  inputLag(ms: number): void {
    this.#governor?.inputLag(performance.now(), ms);
  }

  /** Something changed: draw it at the next frame the level allows. */
  request(): void {
    this.#dirty = true;
    this.schedule();
  }

  /** Draws again after a pause, at once. */
  resume(): void {
    this.#governor?.resume();
    clearTimeout(this.#wake);
    this.#wake = undefined;
    this.request();
  }

  /** Asks for no more frames (the view left the page). */
  stop(): void {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    clearTimeout(this.#wake);
    this.#wake = undefined;
  }

  /**
   * Asks for an animation frame if there is something to draw (always, for a local simulation).
   * While paused it asks for none (an animation frame costs the page even when nothing is drawn):
   * it looks again once a second.
   */
  schedule(): void {
    const host = this.#host;
    if (this.#frame || this.#wake || !host.ready()) return;
    if (!host.continuous() && !this.#dirty && !host.moving()) return;
    if (this.#governor && !this.#governor.due(performance.now()) && this.#governor.state.paused) {
      this.#wake = setTimeout(() => {
        this.#wake = undefined;
        this.schedule();
      }, 1_000);
      return;
    }
    this.#frame = requestAnimationFrame((now) => {
      this.#frame = 0;
      this.#tick(now);
      this.schedule();
    });
  }

  #tick(now: number): void {
    const governor = this.#governor;
    if (!governor?.due(now)) return;
    const host = this.#host;
    const local = host.continuous();
    const moving = !local && host.moving();
    if (!local && !moving && !this.#dirty) return;
    const started = performance.now();
    this.#dirty = false;
    host.draw(now, governor.state.settings);
    governor.drawn(now, performance.now() - started);
    // The overlay's figures once a second: every change to the page is another frame for the
    // compositor (in software, one of the costliest things a page does), not only the canvas's.
    if (now - this.#overlayAt >= 1_000) {
      this.#overlayAt = now;
      host.overlay(governor.state);
    }
  }
}
