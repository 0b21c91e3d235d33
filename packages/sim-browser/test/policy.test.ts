import { bundledScenes } from '@telekit/sim-genesis';
import { afterAll, describe, expect, it } from 'vitest';
import { wasmSimulator } from '../src/index.js';
import { goalInRobotFrame, waypointPolicy } from '../src/policy.js';
import { fileScenes } from '../src/server/index.js';

describe('the shipped waypoint policy (ONNX, onnxruntime-web)', () => {
  const sim = wasmSimulator({ scenes: fileScenes(bundledScenes) });
  afterAll(() => sim.close());

  it('turns toward a goal to the left and drives toward one ahead', async () => {
    const policy = await waypointPolicy();
    try {
      const left = await policy.twist({ x: 0, y: 1 });
      expect(left.angular.z).toBeGreaterThan(1);
      expect(Math.abs(left.linear.x)).toBeLessThan(0.05);
      const ahead = await policy.twist({ x: 2, y: 0 });
      expect(ahead.linear.x).toBeGreaterThan(0.4);
      expect(Math.abs(ahead.angular.z)).toBeLessThan(0.2);
    } finally {
      await policy.close();
    }
  });

  it('drives the simulated robot to waypoints behind and beside it', async () => {
    const policy = await waypointPolicy();
    const info = await sim.loadScene({ id: 'diff-drive', path: 'diff-drive' });
    const steps = Math.round(0.05 / info.timestep); // a decision every 50 ms
    try {
      for (const goal of [
        { x: -1.5, y: 1 },
        { x: 1, y: -1.5 },
      ]) {
        let reached = false;
        for (let t = 0; t < 20 / 0.05 && !reached; t++) {
          const base = sim.current().base!;
          const local = goalInRobotFrame(base, goal);
          reached = Math.hypot(local.x, local.y) < 0.15;
          sim.act({ kind: 'twist', ...(await policy.twist(local)) });
          await sim.step(steps);
        }
        expect(reached, `reached (${goal.x}, ${goal.y})`).toBe(true);
      }
    } finally {
      await policy.close();
    }
  });

  it('a corrupt model fails with a clear error', async () => {
    await expect(waypointPolicy({ model: new Uint8Array([1, 2, 3]) })).rejects.toThrow(
      /cannot load the policy model: .* \[model:3 bytes\]/,
    );
  });
});
