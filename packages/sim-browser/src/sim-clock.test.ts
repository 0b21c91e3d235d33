import { describe, expect, it } from 'vitest';
import { SimClock } from './sim-clock.js';

describe('SimClock', () => {
  it('runs in real time from where it (re)started', () => {
    const clock = new SimClock();
    clock.restart(1_000, 2);
    expect(clock.target(1_500)).toBeCloseTo(2.5);
    clock.restart(3_000, 10);
    expect(clock.target(3_250)).toBeCloseTo(10.25);
  });

  it('keeps a lead ahead of the authority, moving only when off by more than half of it', () => {
    const clock = new SimClock();
    clock.restart(0, 0);
    // At 1 s the target is 1 s; the authority is at 0.92 s with a 0.1 s lead: 1.02, close enough.
    clock.follow(0.92, 0.1, 1_000);
    expect(clock.target(1_000)).toBeCloseTo(1);
    // The authority runs slow: 0.5 s at 1 s. The target moves to 0.6 s.
    clock.follow(0.5, 0.1, 1_000);
    expect(clock.target(1_000)).toBeCloseTo(0.6);
    expect(clock.target(2_000)).toBeCloseTo(1.6);
  });

  it("knows the authority's time once a snapshot came, less the snapshot's trip", () => {
    const clock = new SimClock();
    expect(clock.authorityTime(0)).toBeUndefined();
    // Sent at server time timeOrigin + 950 (clocks agree), arrived at page time 1 000: a 50 ms trip.
    clock.anchor(4, performance.timeOrigin + 950, 1_000, 0);
    expect(clock.authorityTime(950)).toBeCloseTo(4);
    expect(clock.authorityTime(1_950)).toBeCloseTo(5);
  });

  it('takes the trip as zero without a clock offset, or when the offset makes it absurd', () => {
    const clock = new SimClock();
    clock.anchor(4, 0, 1_000, undefined);
    expect(clock.authorityTime(1_000)).toBeCloseTo(4);
    clock.anchor(4, performance.timeOrigin + 1_000 + 5_000, 1_000, 0);
    expect(clock.authorityTime(1_000)).toBeCloseTo(4);
  });
});
