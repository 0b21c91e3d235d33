import { isTelekitError, type Simulator } from '@telekit/core';
import type {
  SceneSpec,
  SimAction,
  SimActuation,
  SimulatorCapabilities,
  SimulatorState,
} from '@telekit/core/contracts';
import { take, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, firstWithin, type SkipEntry, skipReason } from './skips.js';

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
const header = (seq: number) => ({ seq, stamp: performance.timeOrigin + performance.now(), sender: 'kit' });

function base(state: SimulatorState) {
  if (!state.base) throw new Error('simulator declares a base but reports no base state');
  return state.base;
}

/** Standard deviation of the first channel of every pixel: near 0 for a blank frame. */
export function pixelStdDev(data: Uint8Array, channels: number): number {
  let sum = 0;
  let sq = 0;
  const n = Math.floor(data.length / channels);
  for (let i = 0; i < data.length; i += channels) {
    const v = data[i]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

function headingOf(q: { x: number; y: number; z: number; w: number }): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

/**
 * The conformance kit for {@link Simulator}. Cases that need a capability the simulator does not
 * declare are skipped and say so.
 *
 * Commands: every `act` that carries a header gets exactly one report on `actuations$` with its
 * fate — `applied` once a step used it, `superseded` when a newer one replaced it before a step,
 * `expired` when it was past its deadline (`stamp + (ttl ?? DEFAULT_TTL_MS)` on `systemClock`), and
 * an expired command never acts.
 *
 * @example
 * ```ts
 * import { describeSimulator } from '@telekit/testkit';
 * import { kinematicSim } from '@telekit/testkit/fakes';
 * describeSimulator('kinematic', async () => kinematicSim(), { scene: { id: 'diff-drive' }, joint: { name: 'pan', target: 0.5 } });
 * ```
 */
export function describeSimulator(
  name: string,
  makeSimulator: () => Promise<Simulator>,
  options: DescribeSimulatorOptions,
): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const suite = `Simulator conformance: ${name}`;
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

  const test = (
    title: string,
    fn: (sim: Simulator, skip: (reason: string) => void, where: string) => Promise<void>,
    capability?: keyof SimulatorCapabilities,
  ) => {
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

  describe(suite, () => {
    test('loads the scene and describes it', async (sim) => {
      const info = await sim.loadScene(options.scene);
      expect(info.timestep).toBeGreaterThan(0);
      expect(info.bodies.length).toBeGreaterThan(0);
      if (sim.capabilities.base) expect(info.hasBase).toBe(true);
    });

    test('rejects a scene it cannot load with an error naming it, and keeps the scene it had', async (sim) => {
      const before = await sim.step();
      const bad = options.badScene ?? { id: 'no-such-scene', path: 'no-such-scene' };
      const error = await sim.loadScene(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTelekitError(error)).toBe(true);
      expect((error as Error).message).toContain(bad.path ?? bad.id);
      // A load is a transaction: the scene that ran before runs on from where it was.
      const after = await sim.step();
      expect(after.scene).toBe(before.scene);
      expect(after.step).toBe(before.step + 1);
      expect(after.bodies.map((b) => b.name)).toEqual(before.bodies.map((b) => b.name));
    });

    test('steps: time advances by the timestep and state$ reports every step', async (sim, _, where) => {
      const info = await loadedInfo.get(sim)!;
      const seen = firstWithin(
        where,
        '3 states on state$ for 3 steps',
        sim.state$.pipe(take(3), toArray()),
        timeoutMs,
      );
      const s0 = await sim.step();
      await sim.step();
      const s2 = await sim.step();
      const states = await seen;
      expect(states.map((s) => s.step)).toEqual([s0.step, s0.step + 1, s0.step + 2]);
      expect(s2.time - s0.time).toBeCloseTo(2 * info.timestep, 9);
      const s12 = await sim.step(10);
      expect(s12.step).toBe(s2.step + 10);
    });

    test(
      'a forward twist drives the base forward along its heading',
      async (sim) => {
        const start = base(await sim.step());
        sim.act({ kind: 'twist', linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, header(1));
        const end = base(await driveSteps(sim, options.driveSeconds ?? 1));
        const yaw = headingOf(start.orientation);
        const forward =
          (end.position.x - start.position.x) * Math.cos(yaw) +
          (end.position.y - start.position.y) * Math.sin(yaw);
        expect(forward).toBeGreaterThan(0.05);
      },
      'base',
    );

    test(
      'a turning twist changes the heading in its direction',
      async (sim) => {
        const start = headingOf(base(await sim.step()).orientation);
        sim.act({ kind: 'twist', linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.5 } }, header(1));
        const end = headingOf(base(await driveSteps(sim, 0.5)).orientation);
        expect(end - start).toBeGreaterThan(0.02);
      },
      'base',
    );

    test(
      "a twist drives the base at its speed and turn rate (the scene's wheel radius and separation)",
      async (sim) => {
        // The scene conventions: wheel speeds (v ∓ ω·separation/2) / radius. Measured over half a
        // second once the wheels have spun up: within a quarter of what was asked.
        const at = async (linear: number, angular: number) => {
          sim.act({ kind: 'twist', linear: { x: linear, y: 0, z: 0 }, angular: { x: 0, y: 0, z: angular } });
          const a = base(await driveSteps(sim, 1));
          const b = base(await driveSteps(sim, 0.5));
          return {
            speed: Math.hypot(b.position.x - a.position.x, b.position.y - a.position.y) / 0.5,
            turn:
              Math.atan2(
                Math.sin(headingOf(b.orientation) - headingOf(a.orientation)),
                Math.cos(headingOf(b.orientation) - headingOf(a.orientation)),
              ) / 0.5,
          };
        };
        const forward = await at(0.3, 0);
        expect(forward.speed).toBeGreaterThan(0.3 * 0.75);
        expect(forward.speed).toBeLessThan(0.3 * 1.25);
        await sim.reset();
        const turning = await at(0, 0.8);
        expect(turning.turn).toBeGreaterThan(0.8 * 0.75);
        expect(turning.turn).toBeLessThan(0.8 * 1.25);
      },
      'base',
    );

    /** Drives forward, applies `stop`, lets it settle, and checks the base no longer moves. */
    const comesToRest = async (sim: Simulator, stop: SimAction, settleSeconds: number) => {
      sim.act({ kind: 'twist', linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
      await driveSteps(sim, 0.5);
      sim.act(stop);
      const a = base(await driveSteps(sim, settleSeconds));
      const b = base(await driveSteps(sim, 0.2));
      expect(Math.hypot(b.position.x - a.position.x, b.position.y - a.position.y)).toBeLessThan(0.01);
    };

    test(
      'a zero twist brings the base to rest',
      (sim) =>
        comesToRest(sim, { kind: 'twist', linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, 1),
      'base',
    );

    test('freeze (the e-stop) stops the base', (sim) => comesToRest(sim, { kind: 'freeze' }, 0.5), 'base');

    test('reports when a command took effect', async (sim, _, where) => {
      const reported = firstWithin(
        where,
        'a report on actuations$ for the command (seq 42)',
        sim.actuations$,
        timeoutMs,
      );
      const h = header(42);
      const action = sim.capabilities.base
        ? ({ kind: 'twist', linear: { x: 0.1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } } as const)
        : ({ kind: 'freeze' } as const);
      sim.act(action, h);
      await sim.step(2);
      const a: SimActuation = await reported;
      expect(a.command).toEqual(h);
      expect(a.fate).toBe('applied');
      expect(a.at).toBeGreaterThanOrEqual(h.stamp);
      expect(a.simTime).toBeGreaterThan(0);
    });

    /** A command that moves something the simulator has: the base forward, else a joint. */
    const motion = (sim: Simulator): SimAction | undefined =>
      sim.capabilities.base
        ? { kind: 'twist', linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }
        : sim.capabilities.joints && options.joint
          ? { kind: 'joints', name: [options.joint.name], position: [options.joint.target] }
          : undefined;
    /** Collects the reports on `actuations$` until `count` have arrived, or fails saying which came. */
    const collect = (sim: Simulator, where: string) => {
      const reports: SimActuation[] = [];
      const sub = sim.actuations$.subscribe((a) => reports.push(a));
      return {
        reports,
        fates: (seq: number) => reports.filter((r) => r.command.seq === seq).map((r) => r.fate),
        async until(count: number) {
          try {
            await eventually(where, {
              expected: `${count} reports on actuations$`,
              probe: () => reports.length >= count,
              happened: () =>
                `${reports.length} came: ${reports.map((r) => `seq ${r.command.seq} ${r.fate}`).join(', ') || 'none'}`,
              timeoutMs,
            });
          } finally {
            sub.unsubscribe();
          }
        },
      };
    };

    test('every command gets exactly one report with its fate; a newer one supersedes a waiting one', async (sim, skip, where) => {
      const action = motion(sim);
      if (!action) return skip('needs a base, or joints and options.joint');
      const seen = collect(sim, where);
      sim.act(action, header(101));
      sim.act(action, header(102)); // before any step: replaces 101
      await sim.step(2);
      sim.act(action, header(103));
      await sim.step(2);
      await seen.until(3);
      expect(seen.fates(101)).toEqual(['superseded']);
      expect(seen.fates(102)).toEqual(['applied']);
      expect(seen.fates(103)).toEqual(['applied']);
      expect(seen.reports).toHaveLength(3);
    });

    test('a command already past its deadline never acts and is reported expired', async (sim, skip, where) => {
      const action = motion(sim);
      if (!action) return skip('needs a base, or joints and options.joint');
      const seen = collect(sim, where);
      const before = await sim.step();
      const fresh = header(201);
      sim.act(action, { ...fresh, stamp: fresh.stamp - 1_000, ttl: 100 });
      const after = await driveSteps(sim, 0.5);
      await seen.until(1);
      expect(seen.fates(201)).toEqual(['expired']);
      expect(seen.reports).toHaveLength(1);
      if (action.kind === 'twist') {
        const [a, b] = [base(before).position, base(after).position];
        expect(Math.hypot(b.x - a.x, b.y - a.y)).toBeLessThan(0.01);
      } else if (action.kind === 'joints') {
        const i = after.joints.name.indexOf(action.name[0]!);
        expect(Math.abs(after.joints.position[i]! - before.joints.position[i]!)).toBeLessThan(0.01);
      }
    });

    test(
      'a joint target moves the joint toward it',
      async (sim) => {
        const joint = options.joint;
        if (!joint) throw new Error('describeSimulator needs options.joint for a simulator with joints');
        const before = await sim.step();
        const i0 = before.joints.name.indexOf(joint.name);
        expect(i0).toBeGreaterThanOrEqual(0);
        sim.act({ kind: 'joints', name: [joint.name], position: [joint.target] }, header(1));
        const after = await driveSteps(sim, options.driveSeconds ?? 1);
        const i = after.joints.name.indexOf(joint.name);
        const errBefore = Math.abs(before.joints.position[i0]! - joint.target);
        const errAfter = Math.abs(after.joints.position[i]! - joint.target);
        expect(errAfter).toBeLessThan(errBefore * 0.5);
      },
      'joints',
    );

    test('reset returns to the initial state', async (sim) => {
      const initial = await sim.step();
      if (sim.capabilities.base)
        sim.act({ kind: 'twist', linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.3 } });
      await driveSteps(sim, 0.5);
      await sim.reset();
      const again = await sim.step();
      expect(again.time).toBeCloseTo(initial.time, 9);
      for (const [i, b] of again.bodies.entries()) {
        expect(b.position.x).toBeCloseTo(initial.bodies[i]!.position.x, 6);
        expect(b.position.y).toBeCloseTo(initial.bodies[i]!.position.y, 6);
      }
    });

    test(
      'snapshot and restore: the same state and the same future',
      async (sim) => {
        if (sim.capabilities.base)
          sim.act({ kind: 'twist', linear: { x: 0.4, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.2 } });
        await driveSteps(sim, 0.3);
        const snap = await sim.snapshot();
        const futureA = await driveSteps(sim, 0.3);
        await sim.restore(snap);
        const futureB = await driveSteps(sim, 0.3);
        expect(futureB.time).toBe(futureA.time);
        expect(futureB.bodies).toEqual(futureA.bodies);
        expect(futureB.joints).toEqual(futureA.joints);
      },
      'snapshot',
    );

    test(
      'restore rejects a snapshot from another scene, naming the mismatch',
      async (sim) => {
        const snap = await sim.snapshot();
        const error = await sim.restore({ ...snap, scene: 'some-other-scene' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isTelekitError(error)).toBe(true);
        expect((error as Error).message).toContain('some-other-scene');
      },
      'snapshot',
    );

    test(
      'renders camera frames of the declared size while watched',
      async (sim, _, where) => {
        const frames = firstWithin(
          where,
          '2 camera frames on frames$',
          sim.frames$.pipe(take(2), toArray()),
          timeoutMs,
        );
        for (let i = 0; i < 20; i++) await sim.step(5);
        const [a, b] = await frames;
        expect(a!.width).toBeGreaterThan(0);
        expect(a!.data.byteLength).toBe(a!.width * a!.height * (a!.format === 'rgb' ? 3 : 4));
        expect(b!.seq).toBeGreaterThan(a!.seq);
        // Not blank: the picture has contrast.
        expect(pixelStdDev(b!.data, b!.format === 'rgb' ? 3 : 4)).toBeGreaterThan(5);
      },
      'camera',
    );

    test('same inputs, same state: stepping is deterministic', async (sim) => {
      const drive = () => {
        if (sim.capabilities.base)
          sim.act({ kind: 'twist', linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.4 } });
        if (sim.capabilities.joints && options.joint)
          sim.act({ kind: 'joints', name: [options.joint.name], position: [options.joint.target] });
      };
      await sim.reset();
      drive();
      const a = await driveSteps(sim, 0.5);
      await sim.reset();
      drive();
      const b = await driveSteps(sim, 0.5);
      expect(b.time).toBe(a.time);
      expect(b.bodies).toEqual(a.bodies);
      expect(b.joints).toEqual(a.joints);
    });

    if (options.kill) {
      const kill = options.kill;
      it('restarts by itself after its engine is killed, and comes back where it was', {
        timeout: timeoutMs * 3,
      }, async (ctx) => {
        const sim = await simulatorFor(ctx);
        if (sim.capabilities.base)
          sim.act({ kind: 'twist', linear: { x: 0.4, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
        const before = await sim.step(200);
        // Let the simulator keep a snapshot of this state, then kill its engine.
        await new Promise((r) => setTimeout(r, 1_500));
        await kill(sim);
        const after = await sim.step();
        expect(after.time).toBeGreaterThan(before.time);
        const moved = (s: SimulatorState) => s.bodies[0]!.position;
        expect(moved(after).x).toBeCloseTo(moved(before).x, 1);
        expect(moved(after).y).toBeCloseTo(moved(before).y, 1);
      });
    }

    test('close completes the streams and is safe twice', async (sim) => {
      let completed = 0;
      sim.state$.subscribe({ complete: () => completed++ });
      sim.actuations$.subscribe({ complete: () => completed++ });
      await sim.close();
      await sim.close();
      expect(completed).toBe(2);
      const error = await sim.step().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTelekitError(error)).toBe(true);
    });
  });
}
