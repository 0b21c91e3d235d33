import { describe, expect, it } from 'vitest';
import { SimClock } from './sim-clock.js';

describe('SimClock', () => {
  it('runs on between reports at the real-time factor, never backwards, and starts again after a restart', () => {
    const c = new SimClock();
    expect(c.at(1_000)).toBe(0);
    c.report(10, 0.5, 1_000);
    expect(c.at(1_000)).toBe(10_000);
    expect(c.at(1_200)).toBe(10_100);
    // A report a little behind the estimate: the clock holds, then follows it.
    c.report(10.05, 0.5, 1_200);
    expect(c.at(1_200)).toBe(10_100);
    expect(c.at(1_400)).toBe(10_150);
    // The simulator restarted.
    c.report(0.1, 1, 2_000);
    expect(c.at(2_000)).toBe(100);
  });
});
