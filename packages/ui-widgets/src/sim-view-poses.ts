/**
 * The body poses the 3D view draws, as they come in: set by the page (a simulator in the page), or
 * sampled from `/telemetry/sim_state`, in which case the view moves the bodies from one sample to
 * the next ({@link PoseSamples.interpolate}). No DOM: the element asks it for the poses of a frame.
 *
 * @module
 */
import * as THREE from 'three';

/** Where a body is, for a renderer fed by something else than telemetry (the browser sim). */
export interface BodyPose {
  name: string;
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

/** The last two samples of the bodies' poses (times in ms of `performance.now()`), to move between. */
export class PoseSamples {
  #samples: { at: number; bodies: readonly BodyPose[] }[] = [];

  /** Poses set at `at`: drawn as they are, nothing to move from. */
  set(at: number, bodies: readonly BodyPose[]): void {
    this.#samples = [{ at, bodies }];
  }

  /** A sample at `at`, after the previous one; whether it is the first (nothing to move from). */
  add(at: number, bodies: readonly BodyPose[]): boolean {
    this.#samples = [...this.#samples.slice(-1), { at, bodies }];
    return this.#samples.length === 1;
  }

  /** The latest poses known. */
  get last(): readonly BodyPose[] | undefined {
    return this.#samples.at(-1)?.bodies;
  }

  /** Whether the bodies are between two samples (until {@link interpolate} reaches the second). */
  get moving(): boolean {
    return this.#samples.length > 1;
  }

  /**
   * The poses between the last two samples, for now: the bodies move from the previous sample to
   * the latest over one sample interval (at most 0.5 s), so a 5 Hz `/telemetry/sim_state` draws as
   * smooth motion, one interval behind; `undefined` without two samples. Once there, the previous
   * sample is dropped.
   */
  interpolate(now: number): readonly BodyPose[] | undefined {
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
}
