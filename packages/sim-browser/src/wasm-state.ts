/**
 * The engine's state, read and written: where the bodies, joints and wheeled base are
 * ({@link readState}), and snapshots — MuJoCo's full integration state as bytes, checked to fit the
 * loaded scene and engine before they are restored or read aside ({@link bodiesOf}).
 *
 * @module
 */
import type { MjData, MjModel } from '@mujoco/mujoco';
import { TelekitError } from '@telekit/core';
import type { BaseState, SimSnapshot, SimulatorState } from '@telekit/core/contracts';
import type { BodyState } from '@telekit/core/schemas';
import { MUJOCO_VERSION, type Mujoco } from './engine.js';
import type { Loaded } from './wasm-scene.js';

/** `mujoco <version>`: snapshots restore only into the same engine. */
export const ENGINE = `mujoco ${MUJOCO_VERSION}`;

/** The state of the loaded scene now, `steps` steps since it was loaded, reset or restored. */
export function readState(m: Mujoco, l: Loaded, steps: number): SimulatorState {
  const { data } = l;
  const xpos = data.xpos as Float64Array;
  const xquat = data.xquat as Float64Array;
  const qpos = data.qpos as Float64Array;
  const qvel = data.qvel as Float64Array;
  const bodies = l.bodyNames.map((name, i) => poseAt(name, i + 1, xpos, xquat));
  let base: BaseState | undefined;
  if (l.wheels) {
    const b = l.wheels.body;
    const pose = poseAt('', b, xpos, xquat);
    // In the base's own frame (mjOBJ_XBODY; mjOBJ_BODY is the inertial frame, whose axes differ).
    m.mj_objectVelocity(l.model, data, m.mjtObj.mjOBJ_XBODY.value, b, l.velocity, 1);
    const v = l.velocity.GetView() as Float64Array;
    base = {
      position: pose.position,
      orientation: pose.orientation,
      linear: { x: v[3]!, y: v[4]!, z: v[5]! },
      angular: { x: v[0]!, y: v[1]!, z: v[2]! },
    };
  }
  return {
    scene: l.id,
    time: data.time,
    step: steps,
    bodies,
    joints: {
      name: l.joints.map((j) => j.name),
      position: l.joints.map((j) => qpos[j.qpos]!),
      velocity: l.joints.map((j) => qvel[j.dof]!),
    },
    ...(base ? { base } : {}),
  };
}

/** A snapshot of the loaded scene now. */
export function snapshotOf(m: Mujoco, l: Loaded): SimSnapshot {
  return {
    scene: l.id,
    engine: ENGINE,
    time: l.data.time,
    data: getState(m, l.model, l.data, l.stateSize),
  };
}

/** Puts the loaded scene in `snapshot`'s state (checked to fit). */
export function restoreInto(m: Mujoco, l: Loaded, snapshot: SimSnapshot): void {
  checkSnapshot(l, snapshot);
  setState(m, l.model, l.data, snapshot.data);
  m.mj_forward(l.model, l.data);
}

/** Body poses `snapshot` holds (checked to fit), computed aside: the running simulation is not touched. */
export function bodiesOf(m: Mujoco, l: Loaded, snapshot: SimSnapshot): BodyState[] {
  checkSnapshot(l, snapshot);
  const scratch = new m.MjData(l.model);
  try {
    setState(m, l.model, scratch, snapshot.data);
    m.mj_kinematics(l.model, scratch);
    const xpos = scratch.xpos as Float64Array;
    const xquat = scratch.xquat as Float64Array;
    return l.bodyNames.map((name, i) => poseAt(name, i + 1, xpos, xquat));
  } finally {
    scratch.delete();
  }
}

function checkSnapshot(l: Loaded, snapshot: SimSnapshot): void {
  const mismatch = (field: string, theirs: string, ours: string) =>
    new TelekitError('E_SIM_SNAPSHOT', `snapshot is from ${field} ${theirs}, this is ${ours}`, {
      operation: 'restore',
      context: { field },
    });
  if (snapshot.scene !== l.id) throw mismatch('scene', snapshot.scene, l.id);
  if (snapshot.engine !== ENGINE) throw mismatch('engine', snapshot.engine, ENGINE);
  const bytes = l.stateSize * 8;
  if (!(snapshot.data instanceof Uint8Array) || snapshot.data.byteLength !== bytes)
    throw new TelekitError(
      'E_SIM_SNAPSHOT',
      `snapshot data must be ${bytes} bytes for scene ${l.id} (received ${snapshot.data instanceof Uint8Array ? snapshot.data.byteLength : typeof snapshot.data}): another model under the same name?`,
      { operation: 'restore', context: { field: 'data' } },
    );
}

function poseAt(name: string, b: number, xpos: Float64Array, xquat: Float64Array): BodyState {
  return {
    name,
    position: { x: xpos[3 * b]!, y: xpos[3 * b + 1]!, z: xpos[3 * b + 2]! },
    orientation: { w: xquat[4 * b]!, x: xquat[4 * b + 1]!, y: xquat[4 * b + 2]!, z: xquat[4 * b + 3]! },
  };
}

function getState(m: Mujoco, model: MjModel, data: MjData, size: number): Uint8Array {
  const buffer = new m.DoubleBuffer(size);
  try {
    m.mj_getState(model, data, buffer, m.mjtState.mjSTATE_INTEGRATION.value);
    // A copy: the view points into the engine's heap.
    return new Uint8Array((buffer.GetView() as Float64Array).slice().buffer);
  } finally {
    buffer.delete();
  }
}

function setState(m: Mujoco, model: MjModel, data: MjData, bytes: Uint8Array): void {
  // Copied so the doubles are aligned whatever offset the bytes sit at.
  const values = new Float64Array(bytes.slice().buffer);
  m.mj_setState(model, data, Array.from(values), m.mjtState.mjSTATE_INTEGRATION.value);
}
