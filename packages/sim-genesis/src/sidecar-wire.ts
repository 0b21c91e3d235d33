import { readFileSync } from 'node:fs';
import type { SimAction } from '@telekit/core/contracts';
import type { CommandFate, Quaternion } from '@telekit/core/schemas';
import type { SidecarState } from './sidecar-types.js';

// The sidecar's wire shapes and their conversion to core's types.

const quat = (q: readonly number[]): Quaternion => ({
  w: q[0] ?? 1,
  x: q[1] ?? 0,
  y: q[2] ?? 0,
  z: q[3] ?? 0,
});
const vec = (v: readonly number[]) => ({ x: v[0] ?? 0, y: v[1] ?? 0, z: v[2] ?? 0 });

export interface WireState {
  scene: string;
  time: number;
  step: number;
  realtimeFactor: number;
  bodies: { name: string; position: number[]; orientation: number[] }[];
  joints: { name: string[]; position: number[]; velocity: number[] };
  base: { position: number[]; orientation: number[]; linear: number[]; angular: number[] } | null;
  imu: { orientation: number[]; angularVelocity: number[]; linearAcceleration: number[] } | null;
  contacts: number;
}

export function toState(w: WireState): SidecarState {
  return {
    scene: w.scene,
    time: w.time,
    step: w.step,
    realtimeFactor: w.realtimeFactor,
    contacts: w.contacts,
    bodies: w.bodies.map((b) => ({
      name: b.name,
      position: vec(b.position),
      orientation: quat(b.orientation),
    })),
    joints: w.joints,
    ...(w.base
      ? {
          base: {
            position: vec(w.base.position),
            orientation: quat(w.base.orientation),
            linear: vec(w.base.linear),
            angular: vec(w.base.angular),
          },
        }
      : {}),
    ...(w.imu
      ? {
          imu: {
            orientation: quat(w.imu.orientation),
            angularVelocity: vec(w.imu.angularVelocity),
            linearAcceleration: vec(w.imu.linearAcceleration),
          },
        }
      : {}),
  };
}

export const FATES: ReadonlySet<string> = new Set<CommandFate>([
  'applied',
  'superseded',
  'expired',
  'estop',
  'refused',
]);
export const KINDS: ReadonlySet<string> = new Set<SimAction['kind']>(['twist', 'joints', 'freeze']);
/** Requests the sidecar answers at once, whatever else runs (a scene load included). */
export const LOCK_FREE: ReadonlySet<string> = new Set(['stats', 'perf']);

/** The CPU time a process has spent (user and system), in clock ticks; undefined where /proc is not. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}
/** The longest path a Unix socket may have (`sun_path`, 108 bytes with its terminator). */
export const MAX_SOCKET_PATH = 107;
