import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { deadman } from './deadman.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('deadman', () => {
  it('passes commands and emits one zero after the timeout', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 9ms b ----------|', { a: 1, b: 2 });
      // 10 ms timeout: b at 10 ms, then zero at 20 ms; completing (at 21 ms) emits nothing more.
      expectObservable(src.pipe(deadman({ timeoutMs: 10, zero: () => 0 }))).toBe('a 9ms b 9ms z |', {
        a: 1,
        b: 2,
        z: 0,
      });
    });
  });

  it('fresh commands keep re-arming it: no zero while they come in time', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 8ms a 8ms a 8ms a', { a: 1 });
      expectObservable(src.pipe(deadman({ timeoutMs: 10, zero: () => 0 }))).toBe(
        'a 8ms a 8ms a 8ms a 9ms z',
        { a: 1, z: 0 },
      );
    });
  });

  it('trips only once per silence, and again after the next command', () => {
    const trips: number[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 29ms b', { a: 1, b: 2 });
      expectObservable(
        src.pipe(deadman({ timeoutMs: 10, zero: (l) => -l, onTrip: (l) => trips.push(l) })),
      ).toBe('a 9ms x 19ms b 9ms y', { a: 1, b: 2, x: -1, y: -2 });
    });
    expect(trips).toEqual([1, 2]);
  });

  it('stops at once when the source ends or fails while commands are live', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a 3ms |', { a: 1 }).pipe(deadman({ timeoutMs: 10, zero: () => 0 }))).toBe(
        'a 3ms (z|)',
        { a: 1, z: 0 },
      );
      expectObservable(cold('a 3ms #', { a: 1 }).pipe(deadman({ timeoutMs: 10, zero: () => 0 }))).toBe(
        'a 3ms (z#)',
        { a: 1, z: 0 },
      );
      expectObservable(cold<number>('---|').pipe(deadman({ timeoutMs: 10, zero: () => 0 }))).toBe('---|');
    });
  });

  it('clears its timer when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a', { a: 1 });
      expectObservable(src.pipe(deadman({ timeoutMs: 10, zero: () => 0 })), '^ 5ms !').toBe('a', { a: 1 });
    });
  });

  it('refuses a non-positive timeout', () => {
    expect(() => deadman({ timeoutMs: 0, zero: () => 0 })).toThrow(/positive/);
  });
});
