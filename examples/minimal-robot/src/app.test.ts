import { silentLogger } from '@telekit/core';
import { describe, expect, it } from 'vitest';
import { runMinimalRobot } from './app.js';
import { checkReport } from './check.js';

describe('minimal robot demo', () => {
  it('drives the robot and trips every safety rule, in the scripted order', { timeout: 20_000 }, async () => {
    const { app, report } = await runMinimalRobot({ logger: silentLogger });
    expect(checkReport(report)).toEqual([]);
    expect(app.state).toBe('stopped');
    // Forward first, then a left turn: the robot ends up ahead and to the left of where it started.
    expect(report.position.x).toBeGreaterThan(0.5);
    expect(report.position.y).toBeGreaterThan(0.1);
    const order = (prefix: string) => report.safety.findIndex(([, l]) => l.startsWith(prefix));
    expect(order('deadman')).toBeLessThan(order('e-stop engaged'));
    expect(order('e-stop engaged')).toBeLessThan(order('command blocked by the e-stop'));
    expect(order('command blocked by the e-stop')).toBeLessThan(order('e-stop cleared'));
    expect(order('e-stop cleared')).toBeLessThan(order('command from a client without the lease'));
    // Every actuation reported back belongs to a command the operator sent.
    expect(report.actuated).toBeLessThanOrEqual(report.sent);
    expect(report.inputToActuationMs.every((ms) => ms >= 0)).toBe(true);
  });
});
