/**
 * What the 3D view draws, as a three.js scene graph: the MuJoCo scene the view built (see
 * `buildMujocoScene`), or a box per body on a grid when there is none; the lights (a sun for
 * shadows; the model's own lights, else a hemisphere light); the followed body's trail and every
 * body's axes. The scene is in MuJoCo's frame (z up), turned for three's y up. No DOM and no
 * camera: the element aims the camera and renders `scene`.
 *
 * @module
 */
import * as THREE from 'three';
import type { MujocoScene } from './mujoco-scene.js';
import type { BodyPose } from './sim-view-poses.js';

/** How many points a trail keeps (the latest; a point every centimetre or more of travel). */
const TRAIL_POINTS = 2_000;

/** The scene graph of `<telekit-sim-view>`. */
export class SimViewStage {
  readonly scene = new THREE.Scene();
  #built: MujocoScene | undefined;
  #grid: THREE.GridHelper;
  #ground: THREE.Mesh;
  #hemisphere = new THREE.HemisphereLight(0xffffff, 0x334455, 2);
  #sun = new THREE.DirectionalLight(0xffffff, 1.2);
  /** The boxes drawn without a model, by body name. */
  #meshes = new Map<string, THREE.Mesh>();
  #trail: THREE.Line | undefined;
  #trailCount = 0;
  #axesHelpers: THREE.AxesHelper[] = [];
  /** Whether shadows are on, as last set (`undefined`: set them up again at the next frame). */
  #shadows: boolean | undefined;

  constructor() {
    this.#grid = new THREE.GridHelper(20, 40, 0x556070, 0x2a3038);
    this.scene.add(this.#grid);
    this.scene.add(this.#hemisphere);
    // MuJoCo's z is up; three's is y.
    this.scene.rotation.x = -Math.PI / 2;
    this.#grid.rotation.x = Math.PI / 2;
    this.#ground = new THREE.Mesh(
      new THREE.PlaneGeometry(20, 20),
      new THREE.ShadowMaterial({ opacity: 0.35 }),
    );
    this.#ground.receiveShadow = true;
    this.scene.add(this.#ground);
    this.#sun.position.set(3, -2, 6);
    this.#sun.castShadow = true;
    this.#sun.shadow.mapSize.set(1024, 1024);
    this.scene.add(this.#sun, this.#sun.target);
  }

  /** The MuJoCo scene drawn, if any. */
  get built(): MujocoScene | undefined {
    return this.#built;
  }

  /** How many bodies are drawn (the model's, without the world; else the boxes). */
  get bodyCount(): number {
    return this.#built ? this.#built.bodies.size - 1 : this.#meshes.size;
  }

  /** Geom types of the model that are not drawn (height fields, SDF), for the overlay. */
  get undrawn(): string {
    return this.#built ? this.#built.skipped.join(', ') : '';
  }

  /**
   * Draws `built` instead of what was drawn (the previous MuJoCo scene is disposed), or the boxes
   * on a grid with `undefined`.
   */
  show(built: MujocoScene | undefined): void {
    if (this.#built) {
      this.scene.remove(this.#built.root);
      if (this.#built.headlight) this.scene.remove(this.#built.headlight, this.#built.headlight.target);
      this.#built.dispose();
      this.#built = undefined;
    }
    for (const mesh of this.#meshes.values()) mesh.visible = !built;
    this.#grid.visible = !built;
    this.#ground.visible = !built;
    // The model brings its own lights and MuJoCo's headlight (moved with the camera in `light`).
    this.#hemisphere.visible = !built;
    // The sun and the materials are set up again at the next frame (see `setShadows`).
    this.#shadows = undefined;
    if (built) {
      this.#built = built;
      this.scene.add(built.root);
      if (built.headlight) this.scene.add(built.headlight, built.headlight.target);
    }
  }

  /**
   * Moves the bodies: the MuJoCo scene's, else boxes of `boxSize` (m), made for bodies not seen
   * before. Returns whether it made a box.
   */
  place(bodies: readonly BodyPose[], boxSize: number): boolean {
    if (this.#built) {
      this.#built.setBodies(bodies);
      return false;
    }
    let added = false;
    const palette = [0x3d8bfd, 0xf5a524, 0x30a46c, 0xe5484d, 0xa78bfa];
    for (const b of bodies) {
      let mesh = this.#meshes.get(b.name);
      if (!mesh) {
        const s = boxSize;
        mesh = new THREE.Mesh(
          new THREE.BoxGeometry(s, s, s),
          new THREE.MeshStandardMaterial({ color: palette[this.#meshes.size % palette.length]! }),
        );
        mesh.name = b.name;
        mesh.castShadow = true;
        this.scene.add(mesh);
        this.#meshes.set(b.name, mesh);
        added = true;
      }
      mesh.position.set(b.position.x, b.position.y, b.position.z);
      mesh.quaternion.set(b.orientation.x, b.orientation.y, b.orientation.z, b.orientation.w);
    }
    return added;
  }

  /**
   * What the camera follows: `follow`, else the model's first body (the robot's base), else the
   * first box; nothing with `none`.
   */
  target(follow: string): THREE.Object3D | undefined {
    if (follow === 'none') return undefined;
    const built = this.#built;
    if (built) {
      const named = follow ? built.bodies.get(follow) : undefined;
      return named ?? [...built.bodies.values()][1];
    }
    return (follow && this.#meshes.get(follow)) || this.#meshes.values().next().value;
  }

  /** Shadows on or off on `renderer` (only when that changes: materials compile anew). */
  setShadows(renderer: THREE.WebGLRenderer, on: boolean): void {
    if (this.#shadows === on) return;
    this.#shadows = on;
    renderer.shadowMap.enabled = on;
    this.#sun.castShadow = on;
    // A model brings its own lights: the view's sun is there for shadows only.
    this.#sun.visible = on || !this.#built;
    // Materials compile differently with and without shadow maps.
    this.scene.traverse((o) => {
      const m = (o as THREE.Mesh).material as THREE.Material | undefined;
      if (m) m.needsUpdate = true;
    });
  }

  /**
   * Lights for a frame seen by `camera` looking at `at` (world frame): MuJoCo's headlight from the
   * camera, and, with `shadowsOf`, the sun above that body.
   */
  light(camera: THREE.Camera, at: THREE.Vector3, shadowsOf: THREE.Object3D | undefined): void {
    // MuJoCo's headlight: from the camera, where it looks (the scene's own frame is z up).
    const headlight = this.#built?.headlight;
    if (headlight) {
      headlight.position.copy(this.scene.worldToLocal(camera.position.clone()));
      headlight.target.position.copy(this.scene.worldToLocal(at.clone()));
    }
    if (shadowsOf) {
      // The sun's shadow camera covers a few metres: it follows the robot (scene frame, z up).
      const p = shadowsOf.position;
      this.#sun.position.set(p.x + 3, p.y - 2, p.z + 6);
      this.#sun.target.position.copy(p);
    }
  }

  /** The trail of the followed body: a line through where it has been (scene frame, z up). */
  extendTrail(target: THREE.Object3D): void {
    if (!this.#trail) {
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(3 * TRAIL_POINTS), 3));
      geometry.setDrawRange(0, 0);
      this.#trail = new THREE.Line(geometry, new THREE.LineBasicMaterial({ color: 0x3d8bfd }));
      this.#trail.name = 'trail';
      this.#trail.frustumCulled = false;
      this.scene.add(this.#trail);
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

  resetTrail(): void {
    if (!this.#trail) return;
    this.scene.remove(this.#trail);
    this.#trail.geometry.dispose();
    (this.#trail.material as THREE.Material).dispose();
    this.#trail = undefined;
    this.#trailCount = 0;
  }

  /**
   * A frame (x red, y green, z blue) on every body when `on`, sized for the scene (the camera's
   * `distance`, m); none otherwise.
   */
  updateAxes(on: boolean, distance: number): void {
    for (const helper of this.#axesHelpers) {
      helper.removeFromParent();
      helper.dispose();
    }
    this.#axesHelpers = [];
    if (!on) return;
    const bodies = this.#built ? [...this.#built.bodies.values()].slice(1) : [...this.#meshes.values()];
    const size = Math.max(0.05, distance / 12);
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
}
