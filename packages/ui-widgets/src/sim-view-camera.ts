/**
 * The 3D view's camera: a perspective camera that follows a body at a distance fitting it, orbited
 * and zoomed by mouse and touch (three's OrbitControls), panned only when it follows nothing, and
 * put back to its default view on demand. It keeps the user's orbit and zoom as an offset from what
 * it looks at, so the view follows a moving body without losing them. No rendering: the element
 * aims it once a frame ({@link CameraRig.aim}).
 *
 * @module
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

/** m: the distance without a model (boxes on a grid). */
const DEFAULT_DISTANCE = 4.1;

/** The camera of `<telekit-sim-view>` and its orbit controls. */
export class CameraRig {
  readonly camera = new THREE.PerspectiveCamera(50, 4 / 3, 0.05, 200);
  #controls: OrbitControls | undefined;
  /** Where the camera is from what it looks at (three's frame): the user's orbit and zoom. */
  #offset: THREE.Vector3 | undefined;
  /** m: how far the camera stays from what it follows (fits the followed body). */
  #distance = DEFAULT_DISTANCE;

  /** m: how far the camera stays from what it follows. */
  get distance(): number {
    return this.#distance;
  }

  /** Where the camera is and what it looks at (the scene's frame, MuJoCo's: z up), m. */
  get pose(): { position: [number, number, number]; target: [number, number, number] } {
    // three's frame is y up: the scene is turned -90° about x.
    const toScene = (v: THREE.Vector3): [number, number, number] => [v.x, -v.z, v.y];
    return {
      position: toScene(this.camera.position),
      target: toScene(this.#controls?.target ?? new THREE.Vector3()),
    };
  }

  /**
   * Orbit and zoom with mouse and touch on `canvas` around what the camera follows (nothing if
   * already attached); `changed` runs when the user moves the camera.
   */
  attach(canvas: HTMLCanvasElement, changed: () => void): void {
    if (this.#controls) return;
    const controls = new OrbitControls(this.camera, canvas);
    controls.enableDamping = false;
    controls.minDistance = 0.15;
    controls.maxDistance = 60;
    controls.addEventListener('change', changed);
    this.#controls = controls;
  }

  /** Stops listening to the canvas. */
  detach(): void {
    this.#controls?.dispose();
    this.#controls = undefined;
  }

  /** A distance that fits `body` (its bounding box), between 0.8 and 8 m. */
  fitTo(body: THREE.Object3D): void {
    const size = new THREE.Box3().setFromObject(body).getSize(new THREE.Vector3()).length();
    this.#distance = Math.min(8, Math.max(0.8, 4 * size));
  }

  /** The distance for boxes on a grid. */
  resetDistance(): void {
    this.#distance = DEFAULT_DISTANCE;
  }

  /** Forgets the user's orbit and zoom: the next frame is seen from the default view. */
  forget(): void {
    this.#offset = undefined;
  }

  /** Back to the default view, at once (it shows at the next frame drawn). */
  reset(): void {
    this.#offset = this.#defaultOffset();
    const controls = this.#controls;
    if (controls) {
      this.camera.position.copy(controls.target).add(this.#offset);
      this.camera.lookAt(controls.target);
      controls.update();
    }
  }

  /**
   * Aims the camera for a frame of `aspect` (width / height) at `target` (else where it looked),
   * keeping the user's orbit and zoom since the last frame. Returns where it looks (world frame).
   */
  aim(aspect: number, target: THREE.Object3D | undefined): THREE.Vector3 {
    this.camera.aspect = aspect;
    this.camera.updateProjectionMatrix();
    const controls = this.#controls;
    const at = new THREE.Vector3();
    if (target) target.getWorldPosition(at);
    else if (controls) at.copy(controls.target);
    // The user's orbit and zoom since the last frame: where the camera is from what it looks at.
    if (this.#offset && controls) this.#offset.copy(this.camera.position).sub(controls.target);
    this.#offset ??= this.#defaultOffset();
    this.camera.position.copy(at).add(this.#offset);
    this.camera.lookAt(at);
    if (controls) {
      controls.target.copy(at);
      // Panning moves what the camera looks at: only when it follows nothing.
      controls.enablePan = !target;
      controls.update();
    }
    return at;
  }

  /** Behind-left and above, at a distance that fits the followed body (three's frame, y up). */
  #defaultOffset(): THREE.Vector3 {
    const d = this.#distance / Math.hypot(2.5, 2, 2.5);
    return new THREE.Vector3(-2.5 * d, 2 * d, 2.5 * d);
  }
}
