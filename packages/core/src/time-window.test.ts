import { describe, expect, it } from 'vitest';
import { percentiles, TimeWindow } from './time-window.js';

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    expect(percentiles([])).toBeNull();
    expect(percentiles([3])).toEqual({ p50: 3, p99: 3, count: 1 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ p50: 50, p99: 99, count: 100 });
  });

  it('sorts numbers as numbers', () => {
    expect(percentiles([10, 9, 100, 2])).toEqual({ p50: 9, p99: 100, count: 4 });
  });
});

describe('TimeWindow', () => {
  it('keeps only the values of the last windowMs', () => {
    const w = new TimeWindow(1_000);
    w.add(0, 5);
    w.add(500, 7);
    w.add(1_200, 9);
    expect(w.values(1_200)).toEqual([7, 9]);
    expect(w.values(2_600)).toEqual([]);
    expect(w.percentiles(2_600)).toBeNull();
  });

  it('keeps at most cap values, the newest, in order, as its ring grows and wraps', () => {
    const w = new TimeWindow(1e9, 100);
    for (let i = 0; i < 250; i++) w.add(i, i);
    expect(w.size).toBe(100);
    expect(w.values(250)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    // Dropping old values from a wrapped ring, then adding again.
    expect(w.values(1e9 + 199.5)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    for (let i = 250; i < 300; i++) w.add(1e9 + i, i);
    expect(w.values(1e9 + 199.5)).toEqual(Array.from({ length: 100 }, (_, i) => 200 + i));
    expect(w.percentiles(1e9 + 199.5)).toEqual({ p50: 249, p99: 298, count: 100 });
  });

  it('refuses a window or a cap that is not positive, naming it', () => {
    expect(() => new TimeWindow(0)).toThrow(/windowMs/);
    expect(() => new TimeWindow(1_000, 0)).toThrow(/cap/);
  });
});
