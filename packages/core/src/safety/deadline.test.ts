import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDeadline } from './deadline.js';

const h = (stamp: number, ttl?: number) => ({
  seq: 0,
  stamp,
  sender: 's',
  ...(ttl === undefined ? {} : { ttl }),
});

describe('checkDeadline', () => {
  it('is fresh up to the deadline and stale past it', () => {
    expect(checkDeadline(h(1000), 1250, { ttl: 250 })).toEqual({ fresh: true, age: 250 });
    expect(checkDeadline(h(1000), 1251, { ttl: 250 })).toEqual({ fresh: false, reason: 'expired', age: 251 });
  });

  it("prefers the command's own ttl", () => {
    expect(checkDeadline(h(1000, 50), 1100, { ttl: 250 }).fresh).toBe(false);
  });

  it('maps the sender clock with the offset', () => {
    // Sender's clock is 5 s behind ours: its stamp 1000 is our 6000.
    expect(checkDeadline(h(1000), 6100, { ttl: 250, offset: 5000 }).fresh).toBe(true);
    expect(checkDeadline(h(1000), 6100, { ttl: 250 }).fresh).toBe(false);
  });

  it('refuses stamps from the future (unsynchronised clocks)', () => {
    expect(checkDeadline(h(2000), 1000, { ttl: 250 })).toEqual({
      fresh: false,
      reason: 'future',
      age: -1000,
    });
    expect(checkDeadline(h(1100), 1000, { ttl: 250 }).fresh).toBe(true);
    expect(checkDeadline(h(2000), 1000, { ttl: 250, futureTolerance: 2000 }).fresh).toBe(true);
  });

  it('property: a command is actuated only within [stamp − tolerance, stamp + ttl]', () => {
    fc.assert(
      fc.property(
        fc.nat(1e9),
        fc.integer({ min: -1e5, max: 1e5 }),
        fc.integer({ min: 1, max: 10_000 }),
        (stamp, dt, ttl) => {
          const v = checkDeadline(h(stamp), stamp + dt, { ttl });
          expect(v.fresh).toBe(dt <= ttl && -dt <= ttl);
        },
      ),
    );
  });
});
