/**
 * The kinematic simulator's robot, apart from its command queue and lifecycle (`kinematic-sim.ts`):
 * the scene it knows, the layout of its state vector, one kinematics step over that vector, the state
 * and the camera picture made from it, what each action writes into it, and its snapshot format.
 */
import { TelekitError } from '@telekit/core';
import type { SceneInfo, SceneSpec, SimAction, SimSnapshot, SimulatorState } from '@telekit/core/contracts';

export const ENGINE = 'kinematic 1';
export const SCENE = 'diff-drive';
const JOINTS = ['pan', 'tilt'] as const;
/** Layout of the state vector (and of a snapshot). */
const N = 12; // x y yaw v w vTarget wTarget pan tilt panTarget tiltTarget time

/** A fresh state vector (everything at rest at the origin). */
export const stateVector = () => new Float64Array(N);

/** The simulated time, s, held in the state vector. */
export const simTime = (s: Float64Array) => s[11]!;

/** Checks that `scene` is the one scene this simulator knows; throws `E_SIM_SCENE` otherwise. */
export function checkScene(scene: SceneSpec): void {
  if (scene.mjcf !== undefined) {
    throw new TelekitError('E_SIM_SCENE', 'the kinematic simulator does not load MJCF', {
      operation: 'loadScene',
      context: { scene: scene.id },
    });
  }
  if ((scene.path ?? scene.id) !== SCENE) {
    throw new TelekitError('E_SIM_SCENE', `unknown scene; this simulator knows ${SCENE}`, {
      operation: 'loadScene',
      context: { scene: scene.path ?? scene.id },
    });
  }
}

/** What `loadScene` answers, for a physics step of `dt` s. */
export const sceneInfo = (dt: number): SceneInfo => ({
  id: SCENE,
  timestep: dt,
  bodies: ['base', 'head'],
  joints: [...JOINTS],
  actuators: ['left', 'right', ...JOINTS],
  cameras: ['top'],
  hasBase: true,
});

/** One step of `dt` s: velocities and joints approach their targets (time constant `tau`), the base moves. */
export function advance(s: Float64Array, dt: number, tau: number): void {
  const a = dt / (tau + dt);
  s[3] = s[3]! + a * (s[5]! - s[3]!);
  s[4] = s[4]! + a * (s[6]! - s[4]!);
  s[2] = s[2]! + s[4]! * dt;
  s[0] = s[0]! + s[3]! * Math.cos(s[2]!) * dt;
  s[1] = s[1]! + s[3]! * Math.sin(s[2]!) * dt;
  s[7] = s[7]! + a * (s[9]! - s[7]!);
  s[8] = s[8]! + a * (s[10]! - s[8]!);
  s[11] = s[11]! + dt;
}

/** The state as the simulator reports it, after `steps` steps. */
export function stateOf(s: Float64Array, steps: number): SimulatorState {
  const [x, y, yaw, v, w] = [s[0]!, s[1]!, s[2]!, s[3]!, s[4]!];
  const q = { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
  return {
    scene: SCENE,
    time: s[11]!,
    step: steps,
    bodies: [
      { name: 'base', position: { x, y, z: 0.1 }, orientation: q },
      { name: 'head', position: { x, y, z: 0.4 }, orientation: q },
    ],
    joints: { name: [...JOINTS], position: [s[7]!, s[8]!], velocity: [0, 0] },
    base: {
      position: { x, y, z: 0.1 },
      orientation: q,
      linear: { x: v, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: w },
    },
  };
}

/** The camera's RGBA picture: a top-down view of a 4 m square around the origin, the robot as a bright square. */
export function renderTopDown(s: Float64Array, width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  const px = Math.round(((s[0]! + 2) / 4) * (width - 1));
  const py = Math.round(((2 - s[1]!) / 4) * (height - 1));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = (row * width + col) * 4;
      const robot = Math.abs(col - px) <= 1 && Math.abs(row - py) <= 1;
      data[i] = robot ? 255 : 40;
      data[i + 1] = robot ? 200 : (row + col) % 8 === 0 ? 90 : 60;
      data[i + 2] = robot ? 0 : 60;
      data[i + 3] = 255;
    }
  }
  return data;
}

/** An action checked and ready: what it drives, whether it is a freeze, and how it writes the state. */
export interface PreparedAction {
  readonly targets: readonly string[];
  readonly apply: () => void;
  readonly freeze: boolean;
}

/**
 * Checks `action` and prepares what it writes into `s` at the next step. An unknown joint calls
 * `refused` (the command's report), then throws `E_VALIDATION`.
 */
export function prepareAction(s: Float64Array, action: SimAction, refused: () => void): PreparedAction {
  switch (action.kind) {
    case 'twist': {
      const [v, w] = [action.linear.x, action.angular.z];
      return {
        targets: ['base'],
        freeze: false,
        apply: () => {
          s[5] = v;
          s[6] = w;
        },
      };
    }
    case 'joints': {
      const set: [number, number][] = [];
      action.name.forEach((jn, i) => {
        const j = JOINTS.indexOf(jn as (typeof JOINTS)[number]);
        if (j < 0) {
          refused();
          throw new TelekitError('E_VALIDATION', 'unknown joint', {
            operation: 'act',
            context: { joint: jn },
          });
        }
        const target = action.position?.[i];
        if (target !== undefined) set.push([9 + j, target]);
      });
      return {
        targets: action.name,
        freeze: false,
        apply: () => {
          for (const [k, target] of set) s[k] = target;
        },
      };
    }
    case 'freeze':
      return {
        targets: ['base', ...JOINTS],
        freeze: true,
        apply: () => {
          s[3] = s[4] = s[5] = s[6] = 0;
          s[9] = s[7]!;
          s[10] = s[8]!;
        },
      };
  }
}

/** A snapshot's bytes: the state vector, then the step count. */
export const encodeSnapshot = (s: Float64Array, steps: number) =>
  new Uint8Array(new Float64Array([...s, steps]).buffer);

/**
 * Reads a snapshot back into `s` and answers its step count; throws `E_SIM_SNAPSHOT` (without
 * touching `s`) when it is from another scene or engine, or has the wrong size.
 */
export function restoreSnapshot(s: Float64Array, snapshot: SimSnapshot): number {
  if (snapshot.scene !== SCENE) {
    throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot is from another scene', {
      operation: 'restore',
      context: { expected: SCENE, received: snapshot.scene },
    });
  }
  if (snapshot.engine !== ENGINE) {
    throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot is from another engine', {
      operation: 'restore',
      context: { expected: ENGINE, received: snapshot.engine },
    });
  }
  if (snapshot.data.byteLength !== (N + 1) * 8) {
    throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot has the wrong size', {
      operation: 'restore',
      context: { expected: (N + 1) * 8, received: snapshot.data.byteLength },
    });
  }
  const values = new Float64Array(snapshot.data.slice().buffer);
  s.set(values.subarray(0, N));
  return values[N]!;
}
