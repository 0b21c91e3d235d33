// The machinery every case of the Simulator kit runs on: the kit's options, the simulator a case
// gets (the suite's shared one, reset, or a fresh one closed when the case ends), the per-case
// wrapper that skips by capability or by `skip`, and the small helpers the cases share (a command
// header stamped now, the base's state, a heading). The cases themselves live in the
// `simulator-*-cases.ts` modules that `describeSimulator` composes.

import type { Simulator } from '@telekit/core';
import type { SceneSpec, SimulatorCapabilities, SimulatorState } from '@telekit/core/contracts';
import { afterAll, it } from 'vitest';
import { type SkipEntry, skipReason } from './skips.js';

/** Options of {@link describeSimulator}. */
export interface DescribeSimulatorOptions {
  /** A scene with a base (for the `base` cases) or joints (for the `joints` cases). */
  scene: SceneSpec;
  /** A scene id the simulator cannot load, for the error case. Default `no-such-scene`. */
  badScene?: SceneSpec;
  /** A joint and a reachable position target in radians, for the `joints` cases. */
  joint?: { name: string; target: number };
  /** Seconds of simulated time to drive for the motion cases. Default 1. */
  driveSeconds?: number;
  /** Per-case timeout, ms (sidecar simulators need more). Default 10 000. */
  timeoutMs?: number;
  /**
   * Kills the simulator's engine abruptly (a sidecar process, say). With it, the kit checks that the
   * simulator restarts by itself and comes back where it was.
   */
  kill?: (sim: Simulator) => Promise<void>;
  /**
   * One simulator for the whole suite, for simulators slow to start (a Genesis sidecar builds its
   * scene and compiles kernels): the scene is loaded once and each case starts from `reset()`; the
   * kill case restarts it and the close case, last, closes it. Default false: a simulator per case.
   */
  shared?: boolean;
  skip?: readonly SkipEntry[];
}

/** A command header stamped now on `systemClock`'s timeline (the clock simulators judge deadlines on by default). */
export const header = (seq: number) => ({
  seq,
  stamp: performance.timeOrigin + performance.now(),
  sender: 'kit',
});

export function base(state: SimulatorState) {
  if (!state.base) throw new Error('simulator declares a base but reports no base state');
  return state.base;
}

export function headingOf(q: { x: number; y: number; z: number; w: number }): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

/** What a group of cases registers its cases with. */
export interface SimulatorKit {
  readonly options: DescribeSimulatorOptions;
  /** How long a case waits for one thing, ms; a case's vitest timeout is three times this. */
  readonly timeoutMs: number;
  /**
   * Registers a case: it gets the simulator with the scene loaded, and is skipped, saying why, when
   * `skip` names it or the simulator (with its scene) lacks `capability`.
   */
  test(
    title: string,
    fn: (sim: Simulator, skip: (reason: string) => void, where: string) => Promise<void>,
    capability?: keyof SimulatorCapabilities,
  ): void;
  /** The simulator for a case that registers itself with `it` (see {@link simulatorKit}). */
  simulatorFor(ctx: { onTestFinished(fn: () => Promise<void>): void }): Promise<Simulator>;
  /** What loading the scene said, `timestep` included. */
  sceneInfo(sim: Simulator): Promise<{ timestep: number }>;
  /** Steps `sim` for `seconds` of simulated time (at least one step). */
  driveSteps(sim: Simulator, seconds: number): Promise<SimulatorState>;
}

/** Builds the machinery of the suite `suite`; with `shared`, registers the hook that closes its simulator. */
export function simulatorKit(
  suite: string,
  makeSimulator: () => Promise<Simulator>,
  options: DescribeSimulatorOptions,
): SimulatorKit {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const driveSteps = async (sim: Simulator, seconds: number) => {
    const info = await loadedInfo.get(sim)!;
    return sim.step(Math.max(1, Math.round(seconds / info.timestep)));
  };
  const loadedInfo = new WeakMap<Simulator, Promise<{ timestep: number }>>();
  const withScene = async (sim: Simulator) => {
    loadedInfo.set(sim, sim.loadScene(options.scene));
    await loadedInfo.get(sim);
    return sim;
  };
  /** The suite's simulator (with `shared`), made by the first case that needs it. */
  let shared: Promise<Simulator> | undefined;
  afterAll(async () => {
    if (shared) await (await shared.catch(() => undefined))?.close();
  });
  /**
   * The simulator for a case, with the scene loaded: the suite's, reset, or a fresh one that is
   * closed when the case ends, however it ends (a case that times out leaves no engine behind).
   */
  const simulatorFor = async (ctx: { onTestFinished(fn: () => Promise<void>): void }) => {
    if (options.shared) {
      shared ??= makeSimulator().then(withScene);
      const sim = await shared;
      await sim.reset();
      return sim;
    }
    const sim = await makeSimulator();
    ctx.onTestFinished(() => sim.close());
    return withScene(sim);
  };

  const test: SimulatorKit['test'] = (title, fn, capability) => {
    // Above the case's own waits, so that the kit's description, not vitest's, is the failure.
    it(title, { timeout: timeoutMs * 3 }, async (ctx) => {
      const sim = await simulatorFor(ctx);
      // Capabilities may narrow once a scene is loaded (a scene without a base, say).
      const reason = skipReason(
        title,
        options.skip,
        capability !== undefined && !sim.capabilities[capability] && capability,
      );
      if (reason) {
        ctx.skip(reason);
        return;
      }
      await fn(sim, (why) => ctx.skip(why), `${suite} › ${title}`);
    });
  };

  return {
    options,
    timeoutMs,
    test,
    simulatorFor,
    sceneInfo: (sim) => loadedInfo.get(sim)!,
    driveSteps,
  };
}
