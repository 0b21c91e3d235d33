import { type SimState, Topics } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import * as THREE from 'three';
import { defineElement, TelekitWidget } from './base.js';
import { buildMujocoScene, type MujocoModelLike, type MujocoScene } from './mujoco-scene.js';
import { type RENDER_LEVELS, RenderGovernor, type RenderState } from './render-governor.js';
import { theme } from './theme.js';

export type { MujocoModelLike } from './mujoco-scene.js';

/** Where a body is, for a renderer fed by something else than telemetry (the browser sim). */
export interface BodyPose {
  name: string;
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

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

/** The renderer's name, and whether it is a software one, from a throwaway context. */
function probeRenderer(): { name: string; software: boolean } {
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

/**
 * `<telekit-sim-view>`: a three.js view of the scene's bodies, driven by `/telemetry/sim_state`
 * (or, with `source="local"`, by a simulator running in the page: set `bodies` to a function it
 * calls for every frame, or call `setBodies`) — for when there is no video. Given the MuJoCo
 * `model` the page simulates (browser mode), it draws the model itself — every geom with its
 * shape, size and colour, the model's lights and floor (see {@link buildMujocoScene}) — and moves
 * it from the body poses; without one (server mode, for now) bodies are drawn as boxes on a grid.
 * The camera follows `follow` (default: the model's first body, the robot's base; else the first
 * body), at a distance that fits the followed body.
 *
 * It aims at 60 fps with shadows where the machine's GPU allows, and steps down by itself (no
 * shadows, 30 fps at a lower resolution, 15 fps) when it cannot keep up, when drawing takes too much
 * of the main thread, or when the page's input runs late (`inputLag(ms)`, fed by the page from its
 * long tasks and late command sends): the operator's commands come first. Below the last level it
 * pauses with a note and tries again later (or at once with the note's button). A software WebGL
 * (SwiftShader, llvmpipe) starts at 30 fps without antialiasing. The overlay shows the frame rate
 * and the level; `stats` returns them.
 *
 * Attributes: `follow` (a body name), `body-size` (m, default 0.2), `source` (`telemetry`, the
 * default, or `local`). Events: `telekit-view-state` (`detail`: {@link SimViewStats}) when the level
 * changes. Without WebGL it says so.
 */
export class TelekitSimView extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    follow: { type: String },
    bodySize: { type: Number, attribute: 'body-size' },
    source: { type: String },
    _error: { state: true },
    _bodies: { state: true },
    _state: { state: true },
    _undrawn: { state: true },
  };
  declare follow: string;
  declare bodySize: number;
  declare source: 'telemetry' | 'local';
  declare _error: string | undefined;
  declare _bodies: number;
  declare _state: RenderState | undefined;
  /** Geom types of the model that are not drawn (height fields, SDF), for the overlay. */
  declare _undrawn: string;
  /** With `source="local"`: the bodies to draw, asked for every frame the view draws. */
  bodies: (() => readonly BodyPose[]) | undefined;
  #model: MujocoModelLike | undefined;
  #built: MujocoScene | undefined;
  /** m: how far the camera stays from what it follows (fits the followed body). */
  #distance = 4.1;
  #grid: THREE.GridHelper;
  #ground: THREE.Mesh;
  #hemisphere = new THREE.HemisphereLight(0xffffff, 0x334455, 2);
  #renderer: THREE.WebGLRenderer | undefined;
  #software = false;
  #probed: { name: string; software: boolean } | undefined;
  #scene = new THREE.Scene();
  #camera = new THREE.PerspectiveCamera(50, 4 / 3, 0.05, 200);
  #sun = new THREE.DirectionalLight(0xffffff, 1.2);
  #meshes = new Map<string, THREE.Mesh>();
  #frame = 0;
  #dirty = false;
  #resize: ResizeObserver | undefined;
  #governor: RenderGovernor | undefined;
  #shadows: boolean | undefined;
  #overlayAt = 0;
  #size = '';
  #wake: ReturnType<typeof setTimeout> | undefined;

  static override styles = [
    theme,
    css`
      :host {
        display: block;
        position: relative;
        background: var(--_bg);
        border-radius: var(--_radius);
        overflow: hidden;
        aspect-ratio: 4 / 3;
      }
      canvas {
        width: 100%;
        height: 100%;
        display: block;
      }
      p {
        position: absolute;
        inset: auto 0.5em 0.5em;
        margin: 0;
      }
      .overlay {
        font-variant-numeric: tabular-nums;
      }
      .paused {
        position: absolute;
        inset: 0;
        display: grid;
        place-content: center;
        gap: 0.6em;
        text-align: center;
        padding: 1em;
        background: rgb(0 0 0 / 0.55);
      }
    `,
  ];

  constructor() {
    super();
    this.follow = '';
    this.bodySize = 0.2;
    this.source = 'telemetry';
    this._bodies = 0;
    this._undrawn = '';
    this.#grid = new THREE.GridHelper(20, 40, 0x556070, 0x2a3038);
    this.#scene.add(this.#grid);
    this.#scene.add(this.#hemisphere);
    // MuJoCo's z is up; three's is y.
    this.#scene.rotation.x = -Math.PI / 2;
    this.#grid.rotation.x = Math.PI / 2;
    this.#ground = new THREE.Mesh(
      new THREE.PlaneGeometry(20, 20),
      new THREE.ShadowMaterial({ opacity: 0.35 }),
    );
    this.#ground.receiveShadow = true;
    this.#scene.add(this.#ground);
    this.#sun.position.set(3, -2, 6);
    this.#sun.castShadow = true;
    this.#sun.shadow.mapSize.set(1024, 1024);
    this.#scene.add(this.#sun, this.#sun.target);
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
    if (this.#built) {
      this.#scene.remove(this.#built.root);
      this.#built.dispose();
      this.#built = undefined;
    }
    for (const mesh of this.#meshes.values()) mesh.visible = !model;
    this.#grid.visible = !model;
    this.#ground.visible = !model;
    // The model brings its own lights: the sky only fills in (as MuJoCo's headlight does).
    this.#hemisphere.intensity = model ? 1.2 : 2;
    // The sun and the materials are set up again at the next frame (see #draw).
    this.#shadows = undefined;
    if (model) {
      // Software WebGL: diffuse shading, about half the cost of every pixel.
      this.#built = buildMujocoScene(model, { shading: this.#probe().software ? 'lambert' : 'standard' });
      this.#scene.add(this.#built.root);
      this._bodies = this.#built.bodies.size - 1;
      this._undrawn = this.#built.skipped.join(', ');
      const target = this.#target();
      if (target) {
        const size = new THREE.Box3().setFromObject(target).getSize(new THREE.Vector3()).length();
        this.#distance = Math.min(8, Math.max(0.8, 4 * size));
      }
    } else {
      this._bodies = this.#meshes.size;
      this._undrawn = '';
      this.#distance = 4.1;
    }
    this.#dirty = true;
    this.#schedule();
  }

  /** The page's input ran `ms` late just now (a long task, a command sent late): drawing yields. */
  inputLag(ms: number): void {
    this.#governor?.inputLag(performance.now(), ms);
  }

  protected override attach(client: GatewayClient) {
    // `source` may change while bound (a page switching to its own simulator and back).
    return [
      client.subscribe(Topics.simState).subscribe((s: SimState) => {
        if (this.source !== 'local') this.setBodies(s.bodies);
      }),
    ];
  }

  /** Moves (and creates) the bodies, and draws them at the next frame the level allows. */
  setBodies(bodies: readonly BodyPose[]): void {
    this.#place(bodies);
    this.#dirty = true;
    this.#schedule();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (changed.has('source')) {
      if (this.#governor) this.#governor.continuous = this.source === 'local';
      this.#schedule();
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
    this.#governor = new RenderGovernor({
      now: () => performance.now(),
      // Software WebGL starts at 30 fps without shadows; the view climbs if the machine allows.
      start: probe.software ? 2 : 0,
      changed: (state) => {
        this._state = state;
        this.emit('telekit-view-state', this.stats);
        if (!state.paused) this.#dirty = true;
        this.#schedule();
      },
    });
    this.#governor.continuous = this.source === 'local';
    this._state = this.#governor.state;
    this.#resize = new ResizeObserver(() => {
      this.#dirty = true;
      this.#schedule();
    });
    this.#resize.observe(this);
    this.#dirty = true;
    this.#schedule();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.#renderer) this.#schedule();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    clearTimeout(this.#wake);
    this.#wake = undefined;
  }

  /** The renderer probe, once (it makes a throwaway WebGL context). */
  #probe(): { name: string; software: boolean } {
    this.#probed ??= probeRenderer();
    this.#software = this.#probed.software;
    return this.#probed;
  }

  #resume(): void {
    this.#governor?.resume();
    clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#dirty = true;
    this.#schedule();
  }

  #place(bodies: readonly BodyPose[]): void {
    if (this.#built) {
      this.#built.setBodies(bodies);
      return;
    }
    const palette = [0x3d8bfd, 0xf5a524, 0x30a46c, 0xe5484d, 0xa78bfa];
    for (const b of bodies) {
      let mesh = this.#meshes.get(b.name);
      if (!mesh) {
        const s = this.bodySize;
        mesh = new THREE.Mesh(
          new THREE.BoxGeometry(s, s, s),
          new THREE.MeshStandardMaterial({ color: palette[this.#meshes.size % palette.length]! }),
        );
        mesh.name = b.name;
        mesh.castShadow = true;
        this.#scene.add(mesh);
        this.#meshes.set(b.name, mesh);
        this._bodies = this.#meshes.size;
      }
      mesh.position.set(b.position.x, b.position.y, b.position.z);
      mesh.quaternion.set(b.orientation.x, b.orientation.y, b.orientation.z, b.orientation.w);
    }
  }

  /**
   * Asks for an animation frame if there is something to draw (always, for a local simulation).
   * While paused it asks for none (an animation frame costs the page even when nothing is drawn):
   * it looks again once a second.
   */
  #schedule(): void {
    if (this.#frame || this.#wake || !this.#renderer || !this.isConnected) return;
    const local = this.source === 'local' && this.bodies !== undefined;
    if (!local && !this.#dirty) return;
    if (this.#governor && !this.#governor.due(performance.now()) && this.#governor.state.paused) {
      this.#wake = setTimeout(() => {
        this.#wake = undefined;
        this.#schedule();
      }, 1_000);
      return;
    }
    this.#frame = requestAnimationFrame((now) => {
      this.#frame = 0;
      this.#tick(now);
      this.#schedule();
    });
  }

  #tick(now: number): void {
    const governor = this.#governor;
    if (!governor?.due(now)) return;
    const local = this.source === 'local' && this.bodies !== undefined;
    if (!local && !this.#dirty) return;
    const started = performance.now();
    if (local) this.#place(this.bodies!());
    this.#dirty = false;
    this.#draw(governor.state.settings);
    governor.drawn(now, performance.now() - started);
    // The overlay's figures once a second: every change to the page is another frame for the
    // compositor (in software, one of the costliest things a page does), not only the canvas's.
    if (now - this.#overlayAt >= 1_000) {
      this.#overlayAt = now;
      this._state = governor.state;
    }
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
    if (this.#shadows !== level.shadows) {
      this.#shadows = level.shadows;
      r.shadowMap.enabled = level.shadows;
      this.#sun.castShadow = level.shadows;
      // A model brings its own lights: the view's sun is there for shadows only.
      this.#sun.visible = level.shadows || !this.#built;
      // Materials compile differently with and without shadow maps.
      this.#scene.traverse((o) => {
        const m = (o as THREE.Mesh).material as THREE.Material | undefined;
        if (m) m.needsUpdate = true;
      });
    }
    this.#camera.aspect = w / h;
    this.#camera.updateProjectionMatrix();
    const target = this.#target();
    const at = new THREE.Vector3();
    target?.getWorldPosition(at);
    // Behind-left and above, at a distance that fits the followed body (three's frame, y up).
    const d = this.#distance / Math.hypot(2.5, 2, 2.5);
    this.#camera.position.set(at.x - 2.5 * d, at.y + 2 * d, at.z + 2.5 * d);
    this.#camera.lookAt(at);
    if (level.shadows && target) {
      // The sun's shadow camera covers a few metres: it follows the robot (scene frame, z up).
      const p = target.position;
      this.#sun.position.set(p.x + 3, p.y - 2, p.z + 6);
      this.#sun.target.position.copy(p);
    }
    r.render(this.#scene, this.#camera);
  }

  /** What the camera follows: `follow`, else the model's first body (the robot's base), else the first box. */
  #target(): THREE.Object3D | undefined {
    const built = this.#built;
    if (built) {
      const named = this.follow ? built.bodies.get(this.follow) : undefined;
      return named ?? [...built.bodies.values()][1];
    }
    return (this.follow && this.#meshes.get(this.follow)) || this.#meshes.values().next().value;
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
              <span><button @click=${() => this.#resume()}>Draw anyway</button></span>
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
