/**
 * Loading a scene into MuJoCo's WebAssembly engine: compiling its MJCF (errors naming the file and
 * line), and reading what Telekit needs of the compiled model ({@link Loaded}): the joints it
 * reports, the bodies' names, the scene's info, the size of a snapshot, and a wheeled base declared
 * by the scene's `<custom>` fields.
 *
 * @module
 */
import type { DoubleBuffer, MjData, MjModel } from '@mujoco/mujoco';
import { TelekitError } from '@telekit/core';
import type { SceneInfo, SceneSpec, SimulatorCapabilities } from '@telekit/core/contracts';
import type { Mujoco } from './engine.js';
import type { SceneFiles } from './scene.js';

/** A wheeled base declared by the scene's `<custom>` fields (the same ones the server sim reads). */
export interface Wheels {
  left: number;
  right: number;
  radius: number;
  separation: number;
  body: number;
}

/** What is known about the loaded scene. */
export interface Loaded {
  id: string;
  model: MjModel;
  data: MjData;
  info: SceneInfo;
  wheels: Wheels | undefined;
  /** Joints reported in state: hinges and slides, not the base's free joint nor the wheels. */
  joints: { id: number; name: string; qpos: number; dof: number }[];
  bodyNames: string[];
  stateSize: number;
  /** Where the base's velocity is read into, every step (one engine buffer per scene). */
  velocity: DoubleBuffer;
}
/** Compiles the scene; a parse or asset error names the file (and the line, where MuJoCo says). */
export function compile(m: Mujoco, spec: SceneSpec, scene: SceneFiles): MjModel {
  const vfs = new m.MjVFS();
  try {
    for (const [name, bytes] of scene.files) vfs.addBuffer(name, bytes);
    return m.MjModel.from_xml_path(scene.main, vfs);
  } catch (error) {
    const text = String((error as Error)?.message ?? error)
      .replace(/^MuJoCo Error:\s*/, '')
      .replace(/^Loading error:\s*/, '')
      .trim();
    const file = /(?:file|opening file) '([^']+)'/.exec(text)?.[1] ?? spec.path ?? scene.main;
    const line = /line (\d+)/.exec(text)?.[1];
    throw new TelekitError(
      'E_SIM_SCENE',
      `cannot load ${spec.path ?? spec.id}: ${text.split('\n').join('; ')}`,
      {
        operation: 'loadScene',
        cause: error,
        context: { file, ...(line ? { line: Number(line) } : {}) },
      },
    );
  } finally {
    vfs.delete();
  }
}
/** What Telekit reads of a compiled scene, with the engine state `data` it runs in. */
export function describe(m: Mujoco, id: string, model: MjModel, data: MjData): Loaded {
  const name = (type: number, i: number, fallback: string) =>
    m.mj_id2name(model, type, i) || `${fallback}_${i}`;
  const obj = m.mjtObj;
  const wheels = findWheels(m, id, model);
  const wheelJoints = new Set<number>();
  const trnid = model.actuator_trnid as Int32Array;
  if (wheels) for (const a of [wheels.left, wheels.right]) wheelJoints.add(trnid[2 * a]!);
  const types = model.jnt_type as Int32Array;
  const qposadr = model.jnt_qposadr as Int32Array;
  const dofadr = model.jnt_dofadr as Int32Array;
  const joints: Loaded['joints'] = [];
  for (let j = 0; j < model.njnt; j++) {
    const t = types[j]!;
    if (t === m.mjtJoint.mjJNT_FREE.value || t === m.mjtJoint.mjJNT_BALL.value || wheelJoints.has(j))
      continue;
    joints.push({ id: j, name: name(obj.mjOBJ_JOINT.value, j, 'joint'), qpos: qposadr[j]!, dof: dofadr[j]! });
  }
  const bodyNames = Array.from({ length: model.nbody - 1 }, (_, i) =>
    name(obj.mjOBJ_BODY.value, i + 1, 'body'),
  );
  const info: SceneInfo = {
    id,
    timestep: model.opt.timestep,
    bodies: bodyNames,
    joints: joints.map((j) => j.name),
    actuators: Array.from({ length: model.nu }, (_, a) => name(obj.mjOBJ_ACTUATOR.value, a, 'actuator')),
    cameras: Array.from({ length: model.ncam }, (_, c) => name(obj.mjOBJ_CAMERA.value, c, 'camera')),
    hasBase: wheels !== undefined,
  };
  return {
    id,
    model,
    data,
    info,
    wheels,
    joints,
    bodyNames,
    stateSize: m.mj_stateSize(model, m.mjtState.mjSTATE_INTEGRATION.value),
    velocity: new m.DoubleBuffer(6),
  };
}

/** What the simulator can do with the scene: drive its base if it has one, its joints if it reports any. */
export function capabilitiesOf(l: Loaded): SimulatorCapabilities {
  return { base: l.wheels !== undefined, joints: l.joints.length > 0, camera: false, snapshot: true };
}

/** `telekit_wheels`, `telekit_wheel_radius`, `telekit_wheel_separation`, `telekit_base` custom fields. */
function findWheels(m: Mujoco, id: string, model: MjModel): Wheels | undefined {
  const texts = new Map<string, string>();
  const adr = model.text_adr as Int32Array;
  const size = model.text_size as Int32Array;
  const bytes = new Uint8Array((model.text_data as Int8Array).slice().buffer);
  const decoder = new TextDecoder();
  for (let i = 0; i < model.ntext; i++) {
    const key = m.mj_id2name(model, m.mjtObj.mjOBJ_TEXT.value, i);
    texts.set(key, decoder.decode(bytes.subarray(adr[i]!, adr[i]! + size[i]! - 1)));
  }
  const wheelNames = texts.get('telekit_wheels');
  if (!wheelNames) return undefined;
  const bad = (what: string) =>
    new TelekitError('E_SIM_SCENE', `scene ${id} declares wheels but ${what}`, { operation: 'loadScene' });
  const numeric = (key: string) => {
    const i = m.mj_name2id(model, m.mjtObj.mjOBJ_NUMERIC.value, key);
    if (i < 0) throw bad(`no ${key}`);
    return (model.numeric_data as Float64Array)[(model.numeric_adr as Int32Array)[i]!]!;
  };
  const actuator = (key: string) => {
    const a = m.mj_name2id(model, m.mjtObj.mjOBJ_ACTUATOR.value, key);
    if (a < 0) throw bad(`names wheel actuator ${key}, which it does not have`);
    return a;
  };
  const [left = '', right = ''] = wheelNames.split(/\s+/);
  const baseName = texts.get('telekit_base') ?? 'base';
  const body = m.mj_name2id(model, m.mjtObj.mjOBJ_BODY.value, baseName);
  if (body < 0) throw bad(`its base body ${baseName} is missing`);
  return {
    left: actuator(left),
    right: actuator(right),
    radius: numeric('telekit_wheel_radius'),
    separation: numeric('telekit_wheel_separation'),
    body,
  };
}
