/**
 * The topics of authority sync: the server's snapshots out, the browser's divergence back.
 *
 * @module
 */
import { defineTopic } from '@telekit/core';
import { finite, list, message, name } from '@telekit/core/schemas';
import * as z from 'zod';

/** Largest snapshot accepted, bytes (a humanoid's integration state is a few kB). */
export const MAX_SNAPSHOT_BYTES = 1 << 20;

/** Binary data: msgpack gives a `Uint8Array` in Node and an `ArrayBuffer` or view in browsers. */
const bytes = z.preprocess(
  (v) =>
    v instanceof ArrayBuffer
      ? new Uint8Array(v)
      : ArrayBuffer.isView(v) && !(v instanceof Uint8Array)
        ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
        : v,
  z
    .instanceof(Uint8Array as new () => Uint8Array, { message: 'expected binary data (a Uint8Array)' })
    .refine((b) => b.byteLength <= MAX_SNAPSHOT_BYTES, `expected at most ${MAX_SNAPSHOT_BYTES} bytes`),
);

/** `/telemetry/sim_snapshot`: the authority's full state, to restore into a browser simulator. */
export const SimSnapshotMessage = message({
  scene: name(),
  /** `mujoco 3.14.0`: a snapshot restores only into the same engine. */
  engine: z.string().min(1).max(64),
  time: z.number().min(0),
  step: z.number().int().min(0),
  /** Why it was sent: on a timer, or at once after an event that moved the world. */
  reason: z.enum(['periodic', 'reset', 'restart']),
  data: bytes,
}).meta({ id: 'SimSnapshot' });
export type SimSnapshotMessage = z.infer<typeof SimSnapshotMessage>;

/** How a browser corrected toward the authority after a snapshot. */
export const Correction = z.enum(['none', 'smooth', 'snap']);
export type Correction = z.infer<typeof Correction>;

/** `/telemetry/sim_divergence`: how far a browser simulator was from the authority, per body, in metres. */
export const SimDivergence = message({
  scene: name(),
  /** The authority's simulated time the comparison is at, s. */
  time: z.number().min(0),
  max: finite().min(0),
  mean: finite().min(0),
  /** The body furthest off. */
  worst: name(),
  bodies: list(z.object({ name: name(), error: finite().min(0) })),
  correction: Correction,
}).meta({ id: 'SimDivergence' });
export type SimDivergence = z.infer<typeof SimDivergence>;

/** The sync topics; give them to the gateway (`topics`) so clients may use them. */
export const SimTopics = {
  snapshot: defineTopic({
    name: '/telemetry/sim_snapshot',
    lane: 'telemetry',
    schema: SimSnapshotMessage,
    depth: 2,
    description: "The authority simulator's full state, for browser simulators to sync to.",
  }),
  divergence: defineTopic({
    name: '/telemetry/sim_divergence',
    lane: 'telemetry',
    schema: SimDivergence,
    depth: 8,
    description: 'How far a browser simulator was from the authority at a snapshot, per body.',
  }),
} as const;
