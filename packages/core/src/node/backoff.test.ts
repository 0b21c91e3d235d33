import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('grows by its factor up to the maximum while attempts fail', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 1_500 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([250, 500, 1_000, 1_500, 1_500]);
    expect(b.attempts).toBe(5);
  });

  it('starts over after an attempt that worked, or a run that lasted', () => {
    const b = new Backoff({ initialMs: 100, stableMs: 5_000 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
    b.next();
    b.ran(4_999); // died soon after it started: keep backing off
    expect(b.next()).toBe(400);
    b.ran(5_000);
    expect(b.next()).toBe(100);
    expect(b.attempts).toBe(1);
  });

  it('never waits less than the first delay, nor shrinks', () => {
    const b = new Backoff({ initialMs: 300, maxMs: 100, factor: 0.5 });
    expect([b.next(), b.next()]).toEqual([300, 300]);
  });
});
