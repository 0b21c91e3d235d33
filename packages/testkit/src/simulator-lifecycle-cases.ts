// The Simulator kit's lifecycle cases, last in the suite: a simulator whose engine is killed (with
// `options.kill`) restarts by itself and comes back where it was, and `close` completes the streams,
// is safe twice and refuses further use. With `shared`, the close case closes the suite's simulator.

import { isTelekitError } from '@telekit/core';
import type { SimulatorState } from '@telekit/core/contracts';
import { expect, it } from 'vitest';
import type { SimulatorKit } from './simulator-kit.js';

/** Registers the lifecycle cases. */
export function lifecycleCases({ test, options, timeoutMs, simulatorFor }: SimulatorKit): void {
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
}
