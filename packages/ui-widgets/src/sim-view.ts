import { type SimState, Topics } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import * as THREE from 'three';
import { TelekitWidget } from './base.js';
import { theme } from './theme.js';

/** Where a body is, for a renderer fed by something else than telemetry (the browser sim). */
export interface BodyPose {
  name: string;
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

/**
 * `<telekit-sim-view>`: a three.js view of the scene's bodies, driven by `/telemetry/sim_state`
 * (or by `setBodies` from a simulator running in the page) — for when there is no video. Bodies are
 * drawn as boxes on a grid; the camera follows `follow` (default: the first body).
 *
 * Attributes: `follow` (a body name), `body-size` (m, default 0.2), `source` (`telemetry`, the
 * default, or `local` when the page calls `setBodies` itself). Without WebGL it says so.
 */
export class TelekitSimView extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    follow: { type: String },
    bodySize: { type: Number, attribute: 'body-size' },
    source: { type: String },
    _error: { state: true },
    _bodies: { state: true },
  };
  declare follow: string;
  declare bodySize: number;
  declare source: 'telemetry' | 'local';
  declare _error: string | undefined;
  declare _bodies: number;
  #renderer: THREE.WebGLRenderer | undefined;
  #scene = new THREE.Scene();
  #camera = new THREE.PerspectiveCamera(50, 4 / 3, 0.05, 200);
  #meshes = new Map<string, THREE.Mesh>();
  #frame = 0;
  #resize: ResizeObserver | undefined;

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
    `,
  ];

  constructor() {
    super();
    this.follow = '';
    this.bodySize = 0.2;
    this.source = 'telemetry';
    this._bodies = 0;
    this.#scene.add(new THREE.GridHelper(20, 40, 0x556070, 0x2a3038));
    this.#scene.add(new THREE.HemisphereLight(0xffffff, 0x334455, 2.5));
    // MuJoCo's z is up; three's is y.
    this.#scene.rotation.x = -Math.PI / 2;
    this.#scene.children[0]!.rotation.x = Math.PI / 2;
  }

  protected override attach(client: GatewayClient) {
    // `source` may change while bound (a page switching to its own simulator and back).
    return [
      client.subscribe(Topics.simState).subscribe((s: SimState) => {
        if (this.source !== 'local') this.setBodies(s.bodies);
      }),
    ];
  }

  /** Moves (and creates) the bodies. */
  setBodies(bodies: readonly BodyPose[]): void {
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
        this.#scene.add(mesh);
        this.#meshes.set(b.name, mesh);
        this._bodies = this.#meshes.size;
      }
      mesh.position.set(b.position.x, b.position.y, b.position.z);
      mesh.quaternion.set(b.orientation.x, b.orientation.y, b.orientation.z, b.orientation.w);
    }
    this.#draw();
  }

  protected override firstUpdated(): void {
    const canvas = this.renderRoot.querySelector('canvas')!;
    try {
      this.#renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    } catch (error) {
      this._error = `3D view unavailable: WebGL did not start (${(error as Error).message})`;
      return;
    }
    this.#renderer.setClearColor(getComputedStyle(this).getPropertyValue('--telekit-bg').trim() || '#14171c');
    this.#resize = new ResizeObserver(() => this.#draw());
    this.#resize.observe(this);
    this.#draw();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    cancelAnimationFrame(this.#frame);
  }

  #draw(): void {
    cancelAnimationFrame(this.#frame);
    this.#frame = requestAnimationFrame(() => {
      const r = this.#renderer;
      if (!r) return;
      const { clientWidth: w, clientHeight: h } = this;
      if (w === 0 || h === 0) return;
      r.setSize(w, h, false);
      this.#camera.aspect = w / h;
      this.#camera.updateProjectionMatrix();
      const target = (this.follow && this.#meshes.get(this.follow)) || this.#meshes.values().next().value;
      const at = new THREE.Vector3();
      target?.getWorldPosition(at);
      this.#camera.position.set(at.x - 2.5, at.y + 2, at.z + 2.5);
      this.#camera.lookAt(at);
      r.render(this.#scene, this.#camera);
    });
  }

  override render() {
    return html`<canvas aria-label="3D view of the scene"></canvas>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : html`<p class="message" data-field="bodies">${this._bodies} bodies</p>`}`;
  }
}
