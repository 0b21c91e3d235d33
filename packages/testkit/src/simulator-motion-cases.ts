// The Simulator kit's motion cases: a twist drives the base forward and turns it, at the speed and
// turn rate asked; a zero twist and `freeze` bring it to rest (capability `base`); a joint target
// moves the joint toward it (capability `joints`).

import type { Simulator } from '@telekit/core';
import type { SimAction } from '@telekit/core/contracts';
import { expect } from 'vitest';
import { base, header, headingOf, type SimulatorKit } from './simulator-kit.js';

/** Registers the cases of driving the base. */
export function baseCases({ test, options, driveSteps }: SimulatorKit): void {
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
}

/** Registers the joint case. */
export function jointCases({ test, options, driveSteps }: SimulatorKit): void {
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
}
