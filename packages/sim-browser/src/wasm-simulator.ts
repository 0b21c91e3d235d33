import type { MjData, MjModel } from '@mujoco/mujoco';
import {
  type Clock,
  DEFAULT_TTL_MS,
  type Header,
  type Simulator,
  systemClock,
  TelekitError,
} from '@telekit/core';
import type {
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
import { type EngineOptions, loadEngine, type Mujoco } from './engine.js';
import { inlineScenes, type SceneResolver } from './scene.js';
import { actuate, PendingCommands } from './wasm-actuation.js';
import { capabilitiesOf, compile, describe, type Loaded } from './wasm-scene.js';
import { bodiesOf, ENGINE, readState, restoreInto, snapshotOf } from './wasm-state.js';

/** Options of {@link wasmSimulator}. */
export interface WasmSimulatorOptions {
  /** Where the engine comes from: an already loaded module, or options for loading it. */
  engine?: Mujoco | EngineOptions;
  /** Finds a scene's files. Default: inline MJCF only. */
  scenes?: SceneResolver;
  clock?: Clock;
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
  let closed = false;
  let capabilities: SimulatorCapabilities = { base: true, joints: true, camera: false, snapshot: true };
  const state$ = new Subject<SimulatorState>();
  const actuations$ = new Subject<SimActuation>();
  const report = (command: Header, fate: CommandFate, simTime: number) =>
    actuations$.next({ command, fate, at: clock.now(), simTime });
  // Commands set since the last step, each reported once with its fate (see `act`).
  const pending = new PendingCommands(report);

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
      pending.settle('superseded', 0);
      m.mj_forward(model, data);
      capabilities = capabilitiesOf(l);
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
      pending.settle('applied', l.data.time);
      const s = readState(m, l, steps);
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
      actuate(mj!, l, action);
      if (!command) return;
      pending.add(command, action, l.data.time);
    },

    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$: NEVER,

    current() {
      return readState(mj!, require('current'), steps);
    },

    get time() {
      return require('time').data.time;
    },

    async snapshot(): Promise<SimSnapshot> {
      return snapshotOf(mj!, require('snapshot'));
    },

    async restore(snapshot: SimSnapshot) {
      const l = require('restore');
      restoreInto(mj!, l, snapshot);
      steps = Math.round(l.data.time / l.info.timestep);
    },

    bodiesOf(snapshot: SimSnapshot): BodyState[] {
      return bodiesOf(mj!, require('bodiesOf'), snapshot);
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
