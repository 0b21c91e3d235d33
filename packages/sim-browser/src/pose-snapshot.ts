/**
 * The pose snapshot: a simulation's state in terms any engine can take (the scene conventions of
 * `@telekit/sim-genesis`, `scenes/CONVENTIONS.md`). A server on another engine than the page's
 * (Genesis) sends these instead of its byte snapshots, which restore only into the same engine.
 *
 * @module
 */
import { TelekitError } from '@telekit/core';
import type { Quaternion, Vector3 } from '@telekit/core/schemas';
import * as z from 'zod';

/** The format's name, in its `format` field. */
export const POSE_SNAPSHOT_FORMAT = 'telekit.poses/1';

/** A body's pose and velocity: its frame's origin and orientation, velocities along the world axes. */
export interface PoseBody {
  readonly name: string;
  /** m. */
  readonly position: Vector3;
  readonly orientation: Quaternion;
  /** Of the frame's origin, m/s. */
  readonly linear: Vector3;
  /** rad/s. */
  readonly angular: Vector3;
}

/** A hinge (rad) or slide (m) joint's position and velocity. */
export interface PoseJoint {
  readonly name: string;
  readonly position: number;
  readonly velocity: number;
}

/** A decoded pose snapshot. */
export interface PoseSnapshot {
  readonly bodies: readonly PoseBody[];
  readonly joints: readonly PoseJoint[];
}

const finite = z.number().finite();
const vector = z.tuple([finite, finite, finite]);
const Wire = z.object({
  format: z.literal(POSE_SNAPSHOT_FORMAT),
  bodies: z.array(
    z.object({
      name: z.string().min(1).max(256),
      position: vector,
      orientation: z.tuple([finite, finite, finite, finite]),
      linear: vector,
      angular: vector,
    }),
  ),
  joints: z.array(z.object({ name: z.string().min(1).max(256), position: finite, velocity: finite })),
});

const decoder = new TextDecoder();
const vec = ([x, y, z]: readonly [number, number, number]): Vector3 => ({ x, y, z });

/** Whether `data` holds a pose snapshot (cheap: it looks at the first bytes only). */
export function isPoseSnapshot(data: Uint8Array): boolean {
  return decoder.decode(data.subarray(0, 64)).includes(`"format":"${POSE_SNAPSHOT_FORMAT}"`);
}

/**
 * Decodes a pose snapshot's `data` (UTF-8 JSON). Anything else is `E_SIM_SNAPSHOT` naming the
 * field that does not fit.
 *
 * @example
 * ```ts
 * import { decodePoseSnapshot } from '@telekit/sim-browser';
 * const json = '{"format":"telekit.poses/1","bodies":[],"joints":[{"name":"pan","position":0.5,"velocity":0}]}';
 * decodePoseSnapshot(new TextEncoder().encode(json)).joints[0]?.position; // 0.5
 * ```
 */
export function decodePoseSnapshot(data: Uint8Array): PoseSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new TelekitError(
      'E_SIM_SNAPSHOT',
      `a pose snapshot must be UTF-8 JSON: ${(error as Error).message}`,
      {
        operation: 'decodePoseSnapshot',
        context: { field: 'data' },
        cause: error,
      },
    );
  }
  const parsed = Wire.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'data';
    throw new TelekitError(
      'E_SIM_SNAPSHOT',
      `not a ${POSE_SNAPSHOT_FORMAT} snapshot: ${field}: ${issue?.message}`,
      {
        operation: 'decodePoseSnapshot',
        context: { field },
      },
    );
  }
  return {
    bodies: parsed.data.bodies.map((b) => ({
      name: b.name,
      position: vec(b.position),
      orientation: { w: b.orientation[0], x: b.orientation[1], y: b.orientation[2], z: b.orientation[3] },
      linear: vec(b.linear),
      angular: vec(b.angular),
    })),
    joints: parsed.data.joints,
  };
}
