import { Topics } from '@telekit/core';
import type { SimState } from '@telekit/core/schemas';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { defineElement, TelekitWidget } from './base.js';
import {
  buildMujocoScene,
  type MujocoModelLike,
  type MujocoScene,
  type MujocoSceneDescription,
  sceneFromMessage,
} from './mujoco-scene.js';
import { type RENDER_LEVELS, RenderGovernor, type RenderState } from './render-governor.js';
import { theme } from './theme.js';

export type { MujocoModelLike, MujocoSceneDescription } from './mujoco-scene.js';

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

/** How many points a trail keeps (the latest; a point every centimetre or more of travel). */
const TRAIL_POINTS = 2_000;

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
  #built: MujocoScene | undefined;
  #controls: OrbitControls | undefined;
  /** Where the camera is from what it looks at (three's frame): the user's orbit and zoom. */
  #offset: THREE.Vector3 | undefined;
  #trail: THREE.Line | undefined;
  #trailCount = 0;
  #axesHelpers: THREE.AxesHelper[] = [];
  /** Telemetry mode: the last two samples, to move between them (see #interpolate). */
  #samples: { at: number; bodies: readonly BodyPose[] }[] = [];
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
        /* Orbit and zoom still reach the canvas; drawing resumes with the button (or by itself). */
        pointer-events: none;
      }
      .paused button {
        pointer-events: auto;
      }
    `,
  ];

  constructor() {
    super();
    this.follow = '';
    this.bodySize = 0.2;
    this.source = 'telemetry';
    this.trails = false;
    this.axes = false;
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
    // three's frame is y up: the scene is turned -90° about x.
    const toScene = (v: THREE.Vector3): [number, number, number] => [v.x, -v.z, v.y];
    return {
      position: toScene(this.#camera.position),
      target: toScene(this.#controls?.target ?? new THREE.Vector3()),
    };
  }

  /** What is drawn: `model` (browser mode), `description` (server mode) or `boxes`. */
  get drawing(): 'model' | 'description' | 'boxes' {
    return this.#model ? 'model' : this.#description ? 'description' : 'boxes';
  }

  #rebuild(): void {
    const source = this.#model ?? this.#description;
    if (this.#built) {
      this.#scene.remove(this.#built.root);
      if (this.#built.headlight) this.#scene.remove(this.#built.headlight, this.#built.headlight.target);
      this.#built.dispose();
      this.#built = undefined;
    }
    for (const mesh of this.#meshes.values()) mesh.visible = !source;
    this.#grid.visible = !source;
    this.#ground.visible = !source;
    // The model brings its own lights and MuJoCo's headlight (moved with the camera in #draw).
    this.#hemisphere.visible = !source;
    // The sun and the materials are set up again at the next frame (see #draw).
    this.#shadows = undefined;
    if (source) {
      // Software WebGL: diffuse shading, about half the cost of every pixel.
      this.#built = buildMujocoScene(source, { shading: this.#probe().software ? 'lambert' : 'standard' });
      this.#scene.add(this.#built.root);
      if (this.#built.headlight) this.#scene.add(this.#built.headlight, this.#built.headlight.target);
      this._bodies = this.#built.bodies.size - 1;
      this._undrawn = this.#built.skipped.join(', ');
      const target = this.#target();
      if (target) {
        const size = new THREE.Box3().setFromObject(target).getSize(new THREE.Vector3()).length();
        this.#distance = Math.min(8, Math.max(0.8, 4 * size));
      }
      // The last poses known, at once (server mode: the description may come after the poses).
      const last = this.#samples.at(-1);
      if (last) this.#built.setBodies(last.bodies);
    } else {
      this._bodies = this.#meshes.size;
      this._undrawn = '';
      this.#distance = 4.1;
    }
    this.#offset = undefined;
    this.#resetTrail();
    this.#updateAxes();
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
    this.#samples = [{ at: performance.now(), bodies }];
    this.#place(bodies);
    this.#dirty = true;
    this.#schedule();
  }

  /**
   * A telemetry sample: the view moves the bodies from the previous sample to this one over one
   * sample interval (at most 0.5 s), so a 5 Hz `/telemetry/sim_state` draws as smooth motion, one
   * interval behind.
   */
  #sample(bodies: readonly BodyPose[]): void {
    const at = performance.now();
    this.#samples = [...this.#samples.slice(-1), { at, bodies }];
    if (this.#samples.length === 1 || !this.#built) this.#place(bodies);
    this.#dirty = true;
    this.#schedule();
  }

  /** Telemetry mode: the poses between the last two samples, for now; `undefined` once there. */
  #interpolate(now: number): readonly BodyPose[] | undefined {
    const [a, b] = this.#samples;
    if (!a || !b) return undefined;
    const interval = Math.min(500, Math.max(1, b.at - a.at));
    const t = Math.min(1, (now - b.at) / interval);
    const from = new Map(a.bodies.map((p) => [p.name, p]));
    const q = new THREE.Quaternion();
    const poses = b.bodies.map((p) => {
      const o = from.get(p.name);
      if (!o || t >= 1) return p;
      q.set(o.orientation.x, o.orientation.y, o.orientation.z, o.orientation.w).slerp(
        new THREE.Quaternion(p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w),
        t,
      );
      const lerp = (k: 'x' | 'y' | 'z') => o.position[k] + (p.position[k] - o.position[k]) * t;
      return {
        name: p.name,
        position: { x: lerp('x'), y: lerp('y'), z: lerp('z') },
        orientation: { x: q.x, y: q.y, z: q.z, w: q.w },
      };
    });
    if (t >= 1) this.#samples = [b];
    return poses;
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (changed.has('axes')) this.#updateAxes();
    if (changed.has('trails')) this.#resetTrail();
    if (changed.has('follow')) {
      this.#offset = undefined;
      this.#resetTrail();
    }
    if (changed.has('axes') || changed.has('trails') || changed.has('follow')) {
      this.#dirty = true;
      this.#schedule();
    }
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
    this.#orbit();
    // A double click goes back to the default view.
    canvas.addEventListener('dblclick', () => this.#resetView());
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
    if (this.#renderer) {
      this.#orbit();
      this.#schedule();
    }
  }

  /** Orbit and zoom with mouse and touch around what the camera follows (three's OrbitControls). */
  #orbit(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (this.#controls || !canvas) return;
    const controls = new OrbitControls(this.#camera, canvas);
    controls.enableDamping = false;
    controls.minDistance = 0.15;
    controls.maxDistance = 60;
    controls.addEventListener('change', () => {
      this.#dirty = true;
      this.#schedule();
    });
    this.#controls = controls;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#controls?.dispose();
    this.#controls = undefined;
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
        if (this.axes) this.#updateAxes();
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
    if (!local && !this.#dirty && this.#samples.length < 2) return;
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
    const moving = !local && this.#samples.length > 1;
    if (!local && !moving && !this.#dirty) return;
    const started = performance.now();
    if (local) this.#place(this.bodies!());
    else if (moving) {
      const poses = this.#interpolate(now);
      if (poses) this.#place(poses);
    }
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
    const controls = this.#controls;
    const at = new THREE.Vector3();
    if (target) target.getWorldPosition(at);
    else if (controls) at.copy(controls.target);
    // The user's orbit and zoom since the last frame: where the camera is from what it looks at.
    if (this.#offset && controls) this.#offset.copy(this.#camera.position).sub(controls.target);
    this.#offset ??= this.#defaultOffset();
    this.#camera.position.copy(at).add(this.#offset);
    this.#camera.lookAt(at);
    if (controls) {
      controls.target.copy(at);
      // Panning moves what the camera looks at: only when it follows nothing.
      controls.enablePan = !target;
      controls.update();
    }
    if (this.trails && target) this.#extendTrail(target);
    // MuJoCo's headlight: from the camera, where it looks (the scene's own frame is z up).
    const headlight = this.#built?.headlight;
    if (headlight) {
      headlight.position.copy(this.#scene.worldToLocal(this.#camera.position.clone()));
      headlight.target.position.copy(this.#scene.worldToLocal(at.clone()));
    }
    if (level.shadows && target) {
      // The sun's shadow camera covers a few metres: it follows the robot (scene frame, z up).
      const p = target.position;
      this.#sun.position.set(p.x + 3, p.y - 2, p.z + 6);
      this.#sun.target.position.copy(p);
    }
    r.render(this.#scene, this.#camera);
  }

  /** Behind-left and above, at a distance that fits the followed body (three's frame, y up). */
  #defaultOffset(): THREE.Vector3 {
    const d = this.#distance / Math.hypot(2.5, 2, 2.5);
    return new THREE.Vector3(-2.5 * d, 2 * d, 2.5 * d);
  }

  /** Back to the default view, at once (also while drawing is paused: it shows at the next frame). */
  #resetView(): void {
    this.#offset = this.#defaultOffset();
    const controls = this.#controls;
    if (controls) {
      this.#camera.position.copy(controls.target).add(this.#offset);
      this.#camera.lookAt(controls.target);
      controls.update();
    }
    this.#dirty = true;
    this.#schedule();
  }

  /** The trail of the followed body: a line through where it has been (scene frame, z up). */
  #extendTrail(target: THREE.Object3D): void {
    if (!this.#trail) {
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(3 * TRAIL_POINTS), 3));
      geometry.setDrawRange(0, 0);
      this.#trail = new THREE.Line(geometry, new THREE.LineBasicMaterial({ color: 0x3d8bfd }));
      this.#trail.name = 'trail';
      this.#trail.frustumCulled = false;
      this.#scene.add(this.#trail);
      this.#trailCount = 0;
    }
    const positions = this.#trail.geometry.getAttribute('position') as THREE.BufferAttribute;
    const p = target.position;
    const n = this.#trailCount;
    if (n > 0) {
      const dx = positions.getX(n - 1) - p.x;
      const dy = positions.getY(n - 1) - p.y;
      if (dx * dx + dy * dy < 1e-4) return;
    }
    if (n === TRAIL_POINTS) {
      // Full: drop the oldest half.
      const array = positions.array as Float32Array;
      array.copyWithin(0, 3 * (TRAIL_POINTS / 2));
      this.#trailCount = TRAIL_POINTS / 2;
    }
    // Just above the floor, so it is not hidden in it.
    positions.setXYZ(this.#trailCount, p.x, p.y, 0.005);
    this.#trailCount++;
    positions.needsUpdate = true;
    this.#trail.geometry.setDrawRange(0, this.#trailCount);
  }

  #resetTrail(): void {
    if (!this.#trail) return;
    this.#scene.remove(this.#trail);
    this.#trail.geometry.dispose();
    (this.#trail.material as THREE.Material).dispose();
    this.#trail = undefined;
    this.#trailCount = 0;
  }

  /** A frame (x red, y green, z blue) on every body, sized for the scene, when `axes` is set. */
  #updateAxes(): void {
    for (const helper of this.#axesHelpers) {
      helper.removeFromParent();
      helper.dispose();
    }
    this.#axesHelpers = [];
    if (!this.axes) return;
    const bodies = this.#built ? [...this.#built.bodies.values()].slice(1) : [...this.#meshes.values()];
    const size = Math.max(0.05, this.#distance / 12);
    for (const body of bodies) {
      const helper = new THREE.AxesHelper(size);
      helper.name = `${body.name}:axes`;
      // Drawn over the geoms, so a frame inside a body shows.
      (helper.material as THREE.Material).depthTest = false;
      helper.renderOrder = 1;
      body.add(helper);
      this.#axesHelpers.push(helper);
    }
  }

  /** What the camera follows: `follow`, else the model's first body (the robot's base), else the first box; nothing with `none`. */
  #target(): THREE.Object3D | undefined {
    if (this.follow === 'none') return undefined;
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
