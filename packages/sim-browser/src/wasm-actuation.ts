/**
 * What an action does to the engine's actuators — a twist sets the wheeled base's wheel speeds,
 * joint targets go to the joints' actuators, a freeze holds position servos where they are and
 * zeroes the rest ({@link actuate}) — and the fate of each command until the next step
 * ({@link PendingCommands}: applied, superseded, e-stopped).
 *
 * @module
 */
import { type Header, TelekitError } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import type { CommandFate } from '@telekit/core/schemas';
import type { Mujoco } from './engine.js';
import type { Loaded } from './wasm-scene.js';

/** Writes `action` into the loaded scene's actuators; a bad action throws, naming the field. */
export function actuate(m: Mujoco, l: Loaded, action: SimAction): void {
  const ctrl = l.data.ctrl as Float64Array;
  switch (action.kind) {
    case 'twist': {
      const w = l.wheels;
      if (!w)
        throw new TelekitError('E_SIM_NO_BASE', `scene ${l.id} has no base that a twist drives`, {
          operation: 'act',
        });
      const half = w.separation / 2;
      ctrl[w.left] = (action.linear.x - action.angular.z * half) / w.radius;
      ctrl[w.right] = (action.linear.x + action.angular.z * half) / w.radius;
      break;
    }
    case 'joints': {
      const values = action.position ?? action.velocity ?? action.effort ?? [];
      if (values.length !== action.name.length)
        throw new TelekitError(
          'E_VALIDATION',
          `expected ${action.name.length} values (one per name), received ${values.length}`,
          { operation: 'act', context: { field: 'position' } },
        );
      const targets = action.name.map((name) => actuatorForJoint(m, l, name));
      for (const [i, a] of targets.entries()) ctrl[a] = values[i]!;
      break;
    }
    case 'freeze':
      freeze(m, l);
      break;
    default:
      throw new TelekitError(
        'E_VALIDATION',
        `unknown action kind ${String((action as { kind: unknown }).kind)}: expected twist, joints or freeze`,
        { operation: 'act', context: { field: 'kind' } },
      );
  }
}

/**
 * Commands set since the last step, each reported once with its fate: `applied` at the step,
 * `superseded` by a later command that drives all of its actuators or by another scene, `estop` by
 * a freeze.
 */
export class PendingCommands {
  #pending: { command: Header; action: SimAction }[] = [];
  readonly #report: (command: Header, fate: CommandFate, simTime: number) => void;

  constructor(report: (command: Header, fate: CommandFate, simTime: number) => void) {
    this.#report = report;
  }

  /** Every waiting command gets `fate` at `simTime` (`applied` by a step, `superseded` by a new scene). */
  settle(fate: CommandFate, simTime: number): void {
    for (const p of this.#pending) this.#report(p.command, fate, simTime);
    this.#pending = [];
  }

  /** `command` waits for the next step; the waiting commands it covers are reported at `simTime`. */
  add(command: Header, action: SimAction, simTime: number): void {
    // A waiting command whose actuators this one all drives is superseded (by a freeze: e-stopped).
    const names = (a: SimAction) => (a.kind === 'joints' ? a.name : []);
    this.#pending = this.#pending.filter((p) => {
      const covered =
        action.kind === 'freeze' ||
        (action.kind === p.action.kind && names(p.action).every((n) => names(action).includes(n)));
      if (covered)
        this.#report(
          p.command,
          action.kind === 'freeze' && p.action.kind !== 'freeze' ? 'estop' : 'superseded',
          simTime,
        );
      return !covered;
    });
    this.#pending.push({ command, action });
  }
}

function actuatorForJoint(m: Mujoco, l: Loaded, name: string): number {
  const a = m.mj_name2id(l.model, m.mjtObj.mjOBJ_ACTUATOR.value, name);
  if (a >= 0) return a;
  const j = m.mj_name2id(l.model, m.mjtObj.mjOBJ_JOINT.value, name);
  const trntype = l.model.actuator_trntype as Int32Array;
  const trnid = l.model.actuator_trnid as Int32Array;
  if (j >= 0) {
    for (let i = 0; i < l.model.nu; i++)
      if (trntype[i] === m.mjtTrn.mjTRN_JOINT.value && trnid[2 * i] === j) return i;
  }
  throw new TelekitError(
    'E_UNKNOWN_JOINT',
    `unknown joint ${name}: scene ${l.id} has ${l.info.joints.join(', ') || 'no actuated joints'}`,
    { operation: 'act', context: { field: name } },
  );
}

function freeze(m: Mujoco, l: Loaded): void {
  const { model, data } = l;
  const ctrl = data.ctrl as Float64Array;
  const qpos = data.qpos as Float64Array;
  const trntype = model.actuator_trntype as Int32Array;
  const trnid = model.actuator_trnid as Int32Array;
  const biastype = model.actuator_biastype as Int32Array;
  const gain = model.actuator_gainprm as Float64Array;
  const bias = model.actuator_biasprm as Float64Array;
  const qposadr = model.jnt_qposadr as Int32Array;
  const nprm = gain.length / Math.max(1, model.nu);
  for (let a = 0; a < model.nu; a++) {
    // Position servos hold where they are; everything else goes to zero.
    const servo =
      trntype[a] === m.mjtTrn.mjTRN_JOINT.value &&
      biastype[a] === m.mjtBias.mjBIAS_AFFINE.value &&
      gain[a * nprm] !== 0 &&
      bias[a * nprm + 1] !== 0;
    ctrl[a] = servo ? qpos[qposadr[trnid[2 * a]!]!]! : 0;
  }
}
