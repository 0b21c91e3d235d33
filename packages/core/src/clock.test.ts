import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock, systemClock } from './clock.js';
import { OffsetEstimator, offsetOf } from './clock-offset.js';

describe('clocks', () => {
  it('the system clock is on the epoch timeline and never goes backwards', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('a manual clock moves only forward, when told', () => {
    const c = manualClock(100);
    c.advance(50);
    expect(c.now()).toBe(150);
    c.set(200);
    expect(() => c.set(100)).toThrow(/backwards/);
    expect(() => c.advance(-1)).toThrow(/non-negative/);
  });
});

describe('OffsetEstimator', () => {
  it('is exact when both legs take the same time', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (offset, leg, processing) => {
          const t0 = 1000;
          const t1 = t0 + leg + offset;
          const t2 = t1 + processing;
          const t3 = t2 - offset + leg;
          const r = offsetOf({ t0, t1, t2, t3 });
          expect(r.offset).toBeCloseTo(offset, 6);
          expect(r.rtt).toBeCloseTo(2 * leg, 6);
        },
      ),
    );
  });

  it('is never further off than half the round trip', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (offset, up, down) => {
          const t0 = 0;
          const t1 = up + offset;
          const t2 = t1;
          const t3 = t2 - offset + down;
          const r = offsetOf({ t0, t1, t2, t3 });
          expect(Math.abs(r.offset - offset)).toBeLessThanOrEqual(r.rtt / 2 + 1e-6);
        },
      ),
    );
  });

  it('keeps the least-delayed sample of its window and ignores impossible ones', () => {
    const est = new OffsetEstimator({ window: 3 });
    expect(est.estimate()).toBeUndefined();
    // true offset 100; the second probe was queued 40 ms on the way back.
    est.add({ t0: 0, t1: 110, t2: 110, t3: 20 });
    est.add({ t0: 100, t1: 210, t2: 210, t3: 160 });
    expect(est.estimate()).toMatchObject({ offset: 100, rtt: 20, uncertainty: 10, samples: 2 });
    expect(est.add({ t0: 10, t1: 0, t2: 0, t3: 5 })).toBe(false);
    expect(est.add({ t0: 0, t1: Number.NaN, t2: 0, t3: 5 })).toBe(false);
    // The good sample falls out of the window after three more.
    for (let i = 0; i < 3; i++) est.add({ t0: 0, t1: 130, t2: 130, t3: 60 });
    expect(est.estimate()?.rtt).toBe(60);
    est.reset();
    expect(est.estimate()).toBeUndefined();
    expect(() => new OffsetEstimator({ window: 0 })).toThrow(/window/);
  });
});
