import type { DoubleBuffer, MjData, MjModel } from '@mujoco/mujoco';
import {
  type Clock,
  DEFAULT_TTL_MS,
  type Header,
  type Simulator,
  systemClock,
  TelekitError,
} from '@telekit/core';
import type {
  BaseState,
  SceneInfo,
  SceneSpec,
  SimAction,
  SimActuation,
  SimSnapshot,
  SimulatorCapabilities,
  SimulatorState,
} from '@telekit/core/contracts';
import type { BodyState, CommandFate } from '@telekit/core/schemas';
import { NEVER, Subject } from 'rxjs';
import { type EngineOptions, loadEngine, MUJOCO_VERSION, type Mujoco } from './engine.js';
import { inlineScenes, type SceneFiles, type SceneResolver } from './scene.js';

/** Options of {@link wasmSimulator}. */
export interface WasmSimulatorOptions {
  /** Where the engine comes from: an already loaded module, or options for loading it. */
  engine?: Mujoco | EngineOptions;
  /** Finds a scene's files. Default: inline MJCF only. */
  scenes?: SceneResolver;
  clock?: Clock;
}

/** A wheeled base declared by the scene's `<custom>` fields (the same ones the server sim reads). */
interface Wheels {
  left: number;
  right: number;
  radius: number;
  separation: number;
  body: number;
}

/** What is known about the loaded scene. */
interface Loaded {
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

/** The WebAssembly simulator, with what the authority sync needs beyond the core contract. */
export interface WasmSimulator extends Simulator {
  /** `mujoco <version>`: snapshots restore only into the same engine. */
  readonly engine: string;
  /** The loaded scene, if any. */
  readonly scene: SceneInfo | undefined;
  /**
   * The engine's compiled model of the loaded scene, for drawing it (geoms, meshes, materials,
   * lights): read it, never change it. Freed by the next `loadScene` and by `close`.
   */
  readonly model: MjModel | undefined;
  /** The engine's state of the loaded scene (`geom_xpos`, `xpos`…), read only, like `model`. */
  readonly data: MjData | undefined;
  /** The state now, without stepping. */
  current(): SimulatorState;
  /** Simulated time now, s (cheaper than `current().time`). */
  readonly time: number;
  /** Body poses a snapshot holds, computed aside: the running simulation is not touched. */
  bodiesOf(snapshot: SimSnapshot): BodyState[];
}

const ENGINE = `mujoco ${MUJOCO_VERSION}`;

/**
 * MuJoCo's WebAssembly build as a core {@link Simulator}: the same engine version and the same scene
 * conventions as the server's sidecar (`@telekit/sim-genesis`, MuJoCo backend), so a snapshot taken
 * on the server restores here bit for bit. Runs in browsers and in Node.
 *
 * It has no camera (the page renders the bodies with three.js); snapshots are MuJoCo's full
 * integration state (`mjSTATE_INTEGRATION`).
 *
 * @example
 * ```ts
 * import { wasmSimulator } from '@telekit/sim-browser';
 * const sim = wasmSimulator();
 * await sim.loadScene({ id: 'box', mjcf: '<mujoco><worldbody><body><freejoint/><geom size="0.1"/></body></worldbody></mujoco>' });
 * const state = await sim.step(100);
 * ```
 */
export function wasmSimulator(options: WasmSimulatorOptions = {}): WasmSimulator {
  const clock = options.clock ?? systemClock;
  const resolve = options.scenes ?? inlineScenes;
  const engineOption = options.engine;
  let mj: Mujoco | undefined;
  let loaded: Loaded | undefined;
  let steps = 0;
  // Commands set since the last step, each reported once with its fate (see `act`).
  let pending: { command: Header; action: SimAction }[] = [];
  let closed = false;
  let capabilities: SimulatorCapabilities = { base: true, joints: true, camera: false, snapshot: true };
  const state$ = new Subject<SimulatorState>();
  const actuations$ = new Subject<SimActuation>();
  const report = (command: Header, fate: CommandFate, simTime: number) =>
    actuations$.next({ command, fate, at: clock.now(), simTime });

  const engine = async (): Promise<Mujoco> => {
    if (mj) return mj;
    mj =
      engineOption && 'mj_step' in engineOption
        ? engineOption
        : await loadEngine(engineOption as EngineOptions | undefined);
    return mj;
  };

  const require = (operation: string): Loaded => {
    if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation });
    if (!loaded)
      throw new TelekitError('E_SIM_NO_SCENE', 'no scene loaded: call loadScene first', { operation });
    return loaded;
  };

  const free = () => {
    if (!loaded) return;
    loaded.velocity.delete();
    loaded.data.delete();
    loaded.model.delete();
    loaded = undefined;
  };

  const state = (l: Loaded): SimulatorState => {
    const m = mj!;
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
  };

  const actuatorForJoint = (l: Loaded, name: string): number => {
    const m = mj!;
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
  };

  const freeze = (l: Loaded) => {
    const m = mj!;
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
  };

  const sim: WasmSimulator = {
    name: 'mujoco-wasm',
    engine: ENGINE,
    get capabilities() {
      return capabilities;
    },
    get scene() {
      return loaded?.info;
    },
    get model() {
      return loaded?.model;
    },
    get data() {
      return loaded?.data;
    },

    async loadScene(spec: SceneSpec): Promise<SceneInfo> {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
      const m = await engine();
      const files = await resolve(spec);
      const model = compile(m, spec, files);
      free();
      const data = new m.MjData(model);
      const l = describe(m, spec.id, model, data);
      loaded = l;
      steps = 0;
      for (const p of pending) report(p.command, 'superseded', 0);
      pending = [];
      m.mj_forward(model, data);
      capabilities = {
        base: l.wheels !== undefined,
        joints: l.joints.length > 0,
        camera: false,
        snapshot: true,
      };
      return l.info;
    },

    async reset() {
      const l = require('reset');
      mj!.mj_resetData(l.model, l.data);
      mj!.mj_forward(l.model, l.data);
      steps = 0;
    },

    async step(n = 1) {
      const l = require('step');
      const m = mj!;
      for (let i = 0; i < n; i++) m.mj_step(l.model, l.data);
      // mj_step leaves body poses at the start of its last step; report where the bodies are now
      // (what a snapshot of this moment holds).
      m.mj_kinematics(l.model, l.data);
      steps += n;
      for (const p of pending) report(p.command, 'applied', l.data.time);
      pending = [];
      const s = state(l);
      state$.next(s);
      return s;
    },

    act(action: SimAction, command?: Header) {
      const l = require('act');
      // A command past its deadline never acts (act writes the actuators at once; a freeze always acts).
      if (
        command &&
        action.kind !== 'freeze' &&
        clock.now() > command.stamp + (command.ttl ?? DEFAULT_TTL_MS)
      )
        return report(command, 'expired', l.data.time);
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
          const targets = action.name.map((name) => actuatorForJoint(l, name));
          for (const [i, a] of targets.entries()) ctrl[a] = values[i]!;
          break;
        }
        case 'freeze':
          freeze(l);
          break;
        default:
          throw new TelekitError(
            'E_VALIDATION',
            `unknown action kind ${String((action as { kind: unknown }).kind)}: expected twist, joints or freeze`,
            { operation: 'act', context: { field: 'kind' } },
          );
      }
      if (!command) return;
      // A waiting command whose actuators this one all drives is superseded (by a freeze: e-stopped).
      const names = (a: SimAction) => (a.kind === 'joints' ? a.name : []);
      pending = pending.filter((p) => {
        const covered =
          action.kind === 'freeze' ||
          (action.kind === p.action.kind && names(p.action).every((n) => names(action).includes(n)));
        if (covered)
          report(
            p.command,
            action.kind === 'freeze' && p.action.kind !== 'freeze' ? 'estop' : 'superseded',
            l.data.time,
          );
        return !covered;
      });
      pending.push({ command, action });
    },

    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$: NEVER,

    current() {
      return state(require('current'));
    },

    get time() {
      return require('time').data.time;
    },

    async snapshot(): Promise<SimSnapshot> {
      const l = require('snapshot');
      return {
        scene: l.id,
        engine: ENGINE,
        time: l.data.time,
        data: getState(mj!, l.model, l.data, l.stateSize),
      };
    },

    async restore(snapshot: SimSnapshot) {
      const l = require('restore');
      checkSnapshot(l, snapshot);
      setState(mj!, l.model, l.data, snapshot.data);
      mj!.mj_forward(l.model, l.data);
      steps = Math.round(l.data.time / l.info.timestep);
    },

    bodiesOf(snapshot: SimSnapshot): BodyState[] {
      const l = require('bodiesOf');
      checkSnapshot(l, snapshot);
      const m = mj!;
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
    },

    async close() {
      if (closed) return;
      closed = true;
      free();
      state$.complete();
      actuations$.complete();
    },
  };
  return sim;
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

/** Compiles the scene; a parse or asset error names the file (and the line, where MuJoCo says). */
function compile(m: Mujoco, spec: SceneSpec, scene: SceneFiles): MjModel {
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

function describe(m: Mujoco, id: string, model: MjModel, data: MjData): Loaded {
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
