// The Simulator kit's scene and time cases: a scene loads and is described, a scene it cannot load
// is refused naming it while the one it had runs on, stepping advances time by the timestep with
// every step on `state$`; `reset` returns to the initial state, a snapshot restored gives the same
// future (and one of another scene is refused), and the same inputs give the same states.

import { isTelekitError } from '@telekit/core';
import { take, toArray } from 'rxjs';
import { expect } from 'vitest';
import type { SimulatorKit } from './simulator-kit.js';
import { firstWithin } from './skips.js';

/** Registers the cases of loading a scene and stepping it. */
export function sceneCases({ test, options, timeoutMs, sceneInfo }: SimulatorKit): void {
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
    const info = await sceneInfo(sim);
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
}

/** Registers the cases of going back: reset, snapshot and restore. */
export function stateCases({ test, driveSteps }: SimulatorKit): void {
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
}

/** Registers the determinism case. */
export function determinismCases({ test, options, driveSteps }: SimulatorKit): void {
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
}
