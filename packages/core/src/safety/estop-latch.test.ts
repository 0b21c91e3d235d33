import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { EStopLatch, estopGate } from './estop-latch.js';

describe('EStopLatch', () => {
  it('latches until cleared, keeping the first engagement', () => {
    const clock = manualClock(10);
    const latch = new EStopLatch({ clock });
    expect(latch.engage('alice', 'person in cell')).toBe(true);
    clock.advance(5);
    expect(latch.engage('bob', 'me too')).toBe(false);
    expect(latch.state).toEqual({ latched: true, by: 'alice', reason: 'person in cell', since: 10 });
    expect(latch.clear('alice')).toBe(true);
    expect(latch.clear('alice')).toBe(false);
    expect(latch.state).toEqual({ latched: false, by: 'alice', since: 15 });
  });

  it('gate: engaging emits a zero at once and blocks everything until cleared; nothing is replayed', () => {
    const latch = new EStopLatch();
    const src = new Subject<number>();
    const out: number[] = [];
    src.pipe(estopGate(latch, () => 0)).subscribe((v) => out.push(v));
    src.next(1);
    latch.engage('op');
    src.next(2);
    src.next(3);
    latch.clear('op');
    src.next(4);
    expect(out).toEqual([1, 0, 4]);
  });

  it('gate: subscribing while latched emits the zero first', () => {
    const latch = new EStopLatch();
    latch.engage('op');
    const out: number[] = [];
    new Subject<number>().pipe(estopGate(latch, () => 0)).subscribe((v) => out.push(v));
    expect(out).toEqual([0]);
  });

  it('property: while latched, nothing but zero gets through', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant('engage' as const),
            fc.constant('clear' as const),
            fc.integer({ min: 1, max: 100 }),
          ),
          {
            maxLength: 200,
          },
        ),
        (events) => {
          const latch = new EStopLatch();
          const src = new Subject<number>();
          const out: { v: number; latched: boolean }[] = [];
          src.pipe(estopGate(latch, () => 0)).subscribe((v) => out.push({ v, latched: latch.latched }));
          for (const e of events) {
            if (e === 'engage') latch.engage('x');
            else if (e === 'clear') latch.clear('x');
            else src.next(e);
          }
          for (const o of out) if (o.latched) expect(o.v).toBe(0);
        },
      ),
    );
  });
});
