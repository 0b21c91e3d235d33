import type { Simulator } from '@telekit/core';
import type { SimSnapshot } from '@telekit/core/contracts';
import { MUJOCO_VERSION } from '../engine.js';

/** A simulator that can also give a pose snapshot (a `@telekit/sim-genesis` sidecar, say). */
export interface PoseSource {
  /** Its engine, e.g. `genesis 1.4.5 (cpu)`. */
  readonly engine?: string;
  /** Every body's pose and velocity and every joint's position, in the pose snapshot format. */
  poseSnapshot(): Promise<SimSnapshot>;
}

/** The engine pages simulate on: what the authority's byte snapshots must come from to restore there. */
export const PAGE_ENGINE = `mujoco ${MUJOCO_VERSION}`;

/**
 * The snapshot an authority publishes for pages: its own byte snapshot when pages run its engine
 * (MuJoCo at the same version: bit for bit), else a pose snapshot when it can give one (a Genesis
 * server), which pages on MuJoCo follow by poses.
 */
export function authoritySnapshot(sim: Simulator): Promise<SimSnapshot> {
  const source = sim as Simulator & Partial<PoseSource>;
  if (
    typeof source.poseSnapshot === 'function' &&
    source.engine !== undefined &&
    source.engine !== PAGE_ENGINE
  )
    return source.poseSnapshot();
  return sim.snapshot();
}
