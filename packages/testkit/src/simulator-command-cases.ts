// The Simulator kit's command cases: every `act` with a header gets exactly one report on
// `actuations$` with its fate — `applied` once a step used it, `superseded` when a newer one
// replaced it before a step, `expired` when it was past its deadline, and an expired one never acts.

import type { Simulator } from '@telekit/core';
import type { SimAction, SimActuation } from '@telekit/core/contracts';
import { expect } from 'vitest';
import { base, header, type SimulatorKit } from './simulator-kit.js';
import { eventually, firstWithin } from './skips.js';

/** Registers the cases of command fates. */
export function commandCases({ test, options, timeoutMs, driveSteps }: SimulatorKit): void {
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
}
