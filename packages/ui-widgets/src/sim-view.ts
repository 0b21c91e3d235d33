import { Topics } from '@telekit/core';
import type { SimState } from '@telekit/core/schemas';
import type { GatewayClient } from '@telekit/gateway/client';
import { html } from 'lit';
import * as THREE from 'three';
import { defineElement, TelekitWidget } from './base.js';
import {
  buildMujocoScene,
  type MujocoModelLike,
  type MujocoSceneDescription,
  sceneFromMessage,
} from './mujoco-scene.js';
import type { RENDER_LEVELS, RenderState } from './render-governor.js';
import { CameraRig } from './sim-view-camera.js';
import { probeRenderer, SimViewLoop } from './sim-view-loop.js';
import { type BodyPose, PoseSamples } from './sim-view-poses.js';
import { SimViewStage } from './sim-view-stage.js';
import { simViewStyles } from './sim-view-styles.js';
import { theme } from './theme.js';

export type { MujocoModelLike, MujocoSceneDescription } from './mujoco-scene.js';
export type { BodyPose } from './sim-view-poses.js';

/** What the view measures, as `stats` returns it. */
export interface SimViewStats {
  /** Frames drawn in the last second. */
  fps: number;
  /** The quality level's name (`full`, `no shadows`, `reduced`, `low`, `minimal`), or `paused`. */
  level: string;
  /** The frame rate the level aims for. */
  targetFps: number;
  paused: boolean;
  /** Why it lowered its quality or paused, if it did. */
  note: string;
  /** Whether WebGL is software (SwiftShader, llvmpipe): the view then starts lower. */
  software: boolean;
}

/**
 * `<telekit-sim-view>`: a three.js view of the scene's bodies, driven by `/telemetry/sim_state`
 * (or, with `source="local"`, by a simulator running in the page: set `bodies` to a function it
 * calls for every frame, or call `setBodies`) — for when there is no video. It draws the scene's
 * MuJoCo model itself — every geom with its shape, size and colour, meshes, the model's lights and
 * floor (see {@link buildMujocoScene}) — and moves it from the body poses: in browser mode from the
 * `model` the page simulates; in server mode from the scene description the simulator publishes
 * (`/telemetry/sim_scene`, or set `description`), the bodies moving smoothly between the samples of
 * `/telemetry/sim_state` (one sample interval behind). With neither, bodies are boxes on a grid.
 *
 * The camera follows `follow` (default: the model's first body, the robot's base; else the first
 * body; `none`: stays put), at a distance that fits the followed body. Drag to orbit around it,
 * wheel or pinch to zoom, right-drag or two fingers to pan (when not following); a double click
 * goes back to the default view. `trails` draws the followed body's path; `axes` draws every
 * body's frame (x red, y green, z blue).
 *
 * It aims at 60 fps with shadows where the machine's GPU allows, and steps down by itself (no
 * shadows, 30 fps at a lower resolution, 15 fps) when it cannot keep up, when drawing takes too much
 * of the main thread, or when the page's input runs late (`inputLag(ms)`, fed by the page from its
 * long tasks and late command sends): the operator's commands come first. Below the last level it
 * pauses with a note and tries again later (or at once with the note's button). A software WebGL
 * (SwiftShader, llvmpipe) starts at 30 fps without antialiasing. The overlay shows the frame rate
 * and the level; `stats` returns them.
 *
 * Attributes: `follow` (a body name, or `none`), `body-size` (m, default 0.2), `source`
 * (`telemetry`, the default, or `local`), `trails`, `axes`. Events: `telekit-view-state` (`detail`:
 * {@link SimViewStats}) when the level changes. Without WebGL it says so.
 */
export class TelekitSimView extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    follow: { type: String },
    bodySize: { type: Number, attribute: 'body-size' },
    source: { type: String },
    trails: { type: Boolean, reflect: true },
    axes: { type: Boolean, reflect: true },
    _error: { state: true },
    _bodies: { state: true },
    _state: { state: true },
    _undrawn: { state: true },
  };
  declare follow: string;
  declare bodySize: number;
  declare source: 'telemetry' | 'local';
  /** Draw the followed body's path. */
  declare trails: boolean;
  /** Draw every body's frame. */
  declare axes: boolean;
  declare _error: string | undefined;
  declare _bodies: number;
  declare _state: RenderState | undefined;
  /** Geom types of the model that are not drawn (height fields, SDF), for the overlay. */
  declare _undrawn: string;
  /** With `source="local"`: the bodies to draw, asked for every frame the view draws. */
  bodies: (() => readonly BodyPose[]) | undefined;
  #model: MujocoModelLike | undefined;
  #description: MujocoSceneDescription | undefined;
  /** What is drawn: the scene graph. */
  readonly #stage = new SimViewStage();
  /** The camera and its orbit controls. */
  readonly #rig = new CameraRig();
  /** The poses to draw, as set or sampled. */
  readonly #poses = new PoseSamples();
  /** When to draw, and how well. */
  readonly #loop = new SimViewLoop({
    ready: () => this.#renderer !== undefined && this.isConnected,
    continuous: () => this.source === 'local' && this.bodies !== undefined,
    moving: () => this.#poses.moving,
    draw: (now, level) => this.#drawFrame(now, level),
    changed: (state) => {
      this._state = state;
      this.emit('telekit-view-state', this.stats);
    },
    overlay: (state) => {
      this._state = state;
    },
  });
  #renderer: THREE.WebGLRenderer | undefined;
  #software = false;
  #probed: { name: string; software: boolean } | undefined;
  #resize: ResizeObserver | undefined;
  #size = '';

  static override styles = [theme, simViewStyles];

  constructor() {
    super();
    this.follow = '';
    this.bodySize = 0.2;
    this.source = 'telemetry';
    this.trails = false;
    this.axes = false;
    this._bodies = 0;
    this._undrawn = '';
  }

  /** What the view measures: frame rate, quality level, whether it paused and why. */
  get stats(): SimViewStats {
    const s = this._state;
    return {
      fps: s?.fps ?? 0,
      level: s ? (s.paused ? 'paused' : s.settings.name) : 'starting',
      targetFps: s?.settings.fps ?? 0,
      paused: s?.paused ?? false,
      note: s?.note ?? '',
      software: this.#software,
    };
  }

  /**
   * The MuJoCo model to draw (MuJoCo WebAssembly's `MjModel`, e.g. `sim.simulator.model` in
   * browser mode): its geoms replace the boxes, moved by the same body poses. Read once when set
   * (the model may be freed afterwards); setting another rebuilds, `undefined` goes back to boxes.
   */
  get model(): MujocoModelLike | undefined {
    return this.#model;
  }
  set model(model: MujocoModelLike | undefined) {
    if (model === this.#model) return;
    this.#model = model;
    this.#rebuild();
  }

  /**
   * The scene to draw when the page has no `model` (server mode): a description as the simulator
   * publishes it on `/telemetry/sim_scene` (the view takes it from there by itself when bound to a
   * client). A `model` set by the page wins.
   */
  get description(): MujocoSceneDescription | undefined {
    return this.#description;
  }
  set description(description: MujocoSceneDescription | undefined) {
    if (description === this.#description) return;
    this.#description = description;
    if (!this.#model) this.#rebuild();
  }

  /** Where the camera is and what it looks at (the scene's frame, MuJoCo's: z up), m. */
  get cameraPose(): { position: [number, number, number]; target: [number, number, number] } {
    return this.#rig.pose;
  }

  /** What is drawn: `model` (browser mode), `description` (server mode) or `boxes`. */
  get drawing(): 'model' | 'description' | 'boxes' {
    return this.#model ? 'model' : this.#description ? 'description' : 'boxes';
  }

  #rebuild(): void {
    const source = this.#model ?? this.#description;
    // Software WebGL: diffuse shading, about half the cost of every pixel.
    this.#stage.show(
      source && buildMujocoScene(source, { shading: this.#probe().software ? 'lambert' : 'standard' }),
    );
    this._bodies = this.#stage.bodyCount;
    this._undrawn = this.#stage.undrawn;
    if (source) {
      const target = this.#stage.target(this.follow);
      if (target) this.#rig.fitTo(target);
      // The last poses known, at once (server mode: the description may come after the poses).
      const last = this.#poses.last;
      if (last) this.#stage.built?.setBodies(last);
    } else this.#rig.resetDistance();
    this.#rig.forget();
    this.#stage.resetTrail();
    this.#updateAxes();
    this.#loop.request();
  }

  /** The page's input ran `ms` late just now (a long task, a command sent late): drawing yields. */
  inputLag(ms: number): void {
    this.#loop.inputLag(ms);
  }

  protected override attach(client: GatewayClient) {
    // `source` may change while bound (a page switching to its own simulator and back).
    return [
      client.subscribe(Topics.simState).subscribe((s: SimState) => {
        if (this.source !== 'local') this.#sample(s.bodies);
      }),
      // What the scene looks like, once (server mode; browser mode's page sets `model`).
      client.subscribe(Topics.simScene).subscribe((scene) => {
        try {
          this.description = sceneFromMessage(scene);
        } catch (error) {
          this._error = `3D view: the scene description could not be drawn (${(error as Error).message})`;
        }
      }),
    ];
  }

  /** Moves (and creates) the bodies, and draws them at the next frame the level allows. */
  setBodies(bodies: readonly BodyPose[]): void {
    this.#poses.set(performance.now(), bodies);
    this.#place(bodies);
    this.#loop.request();
  }

  /**
   * A telemetry sample: the view moves the bodies from the previous sample to this one over one
   * sample interval (at most 0.5 s), so a 5 Hz `/telemetry/sim_state` draws as smooth motion, one
   * interval behind (see {@link PoseSamples.interpolate}).
   */
  #sample(bodies: readonly BodyPose[]): void {
    const first = this.#poses.add(performance.now(), bodies);
    if (first || !this.#stage.built) this.#place(bodies);
    this.#loop.request();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (changed.has('axes')) this.#updateAxes();
    if (changed.has('trails')) this.#stage.resetTrail();
    if (changed.has('follow')) {
      this.#rig.forget();
      this.#stage.resetTrail();
    }
    if (changed.has('axes') || changed.has('trails') || changed.has('follow')) this.#loop.request();
    if (changed.has('source')) {
      this.#loop.continuous = this.source === 'local';
      this.#loop.schedule();
    }
  }

  protected override firstUpdated(): void {
    const canvas = this.renderRoot.querySelector('canvas')!;
    const probe = this.#probe();
    try {
      // Antialiasing only where a GPU does it: in software it costs every pixel several times.
      this.#renderer = new THREE.WebGLRenderer({ canvas, antialias: !probe.software });
    } catch (error) {
      this._error = `3D view unavailable: WebGL did not start (${(error as Error).message})`;
      return;
    }
    this.#renderer.setClearColor(getComputedStyle(this).getPropertyValue('--telekit-bg').trim() || '#14171c');
    // Software WebGL starts at 30 fps without shadows; the view climbs if the machine allows.
    this._state = this.#loop.start(probe.software, this.source === 'local');
    this.#orbit();
    // A double click goes back to the default view (also while drawing is paused: it shows at the
    // next frame).
    canvas.addEventListener('dblclick', () => {
      this.#rig.reset();
      this.#loop.request();
    });
    this.#resize = new ResizeObserver(() => this.#loop.request());
    this.#resize.observe(this);
    this.#loop.request();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.#renderer) {
      this.#orbit();
      this.#loop.schedule();
    }
  }

  /** Orbit and zoom with mouse and touch around what the camera follows (three's OrbitControls). */
  #orbit(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (canvas) this.#rig.attach(canvas, () => this.#loop.request());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#rig.detach();
    this.#loop.stop();
  }

  /** The renderer probe, once (it makes a throwaway WebGL context). */
  #probe(): { name: string; software: boolean } {
    this.#probed ??= probeRenderer();
    this.#software = this.#probed.software;
    return this.#probed;
  }

  #place(bodies: readonly BodyPose[]): void {
    if (!this.#stage.place(bodies, this.bodySize)) return;
    this._bodies = this.#stage.bodyCount;
    if (this.axes) this.#updateAxes();
  }

  #updateAxes(): void {
    this.#stage.updateAxes(this.axes, this.#rig.distance);
  }

  /** A frame: the bodies where they are now (the page's simulation, or between two samples), drawn. */
  #drawFrame(now: number, level: (typeof RENDER_LEVELS)[number]): void {
    if (this.source === 'local' && this.bodies !== undefined) this.#place(this.bodies());
    else if (this.#poses.moving) {
      const poses = this.#poses.interpolate(now);
      if (poses) this.#place(poses);
    }
    this.#draw(level);
  }

  #draw(level: (typeof RENDER_LEVELS)[number]): void {
    const r = this.#renderer!;
    const { clientWidth: w, clientHeight: h } = this;
    if (w === 0 || h === 0) return;
    // Only when something changed: setting a canvas's size, even to the same one, reallocates its
    // drawing buffer.
    const size = `${w}x${h}@${level.scale}`;
    if (size !== this.#size) {
      this.#size = size;
      r.setPixelRatio(level.scale);
      r.setSize(w, h, false);
    }
    this.#stage.setShadows(r, level.shadows);
    const target = this.#stage.target(this.follow);
    const at = this.#rig.aim(w / h, target);
    if (this.trails && target) this.#stage.extendTrail(target);
    this.#stage.light(this.#rig.camera, at, level.shadows ? target : undefined);
    r.render(this.#stage.scene, this.#rig.camera);
  }

  override render() {
    const s = this.stats;
    if (this._error)
      return html`<canvas aria-label="3D view of the scene"></canvas><p class="error" role="alert">${this._error}</p>`;
    return html`<canvas aria-label="3D view of the scene"></canvas>
      ${
        s.paused
          ? html`<div class="paused" role="status">
              <span data-field="view-note">3D view ${s.note}</span>
              <span><button @click=${() => this.#loop.resume()}>Draw anyway</button></span>
            </div>`
          : ''
      }
      <p class="message overlay">
        <span data-field="bodies">${this._bodies} bodies</span> ·
        ${this._undrawn ? html`<span data-field="undrawn">not drawn: ${this._undrawn}</span> ·` : ''}
        <span data-field="fps">${s.paused ? 'paused' : `${s.fps} fps · ${s.level}`}</span>
        ${!s.paused && s.note ? html`<span data-field="view-note" title=${s.note}> · ${s.note}</span>` : ''}
      </p>`;
  }
}

defineElement('telekit-sim-view', TelekitSimView);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-sim-view': TelekitSimView;
  }
}
