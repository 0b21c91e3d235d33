import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mailbox } from './mailbox.js';

describe('Mailbox', () => {
  it('latest: holds one, counts what it replaced', () => {
    const m = new Mailbox<number>({ kind: 'latest' });
    m.push(1);
    m.push(2);
    m.push(3);
    expect(m.take()).toBe(3);
    expect(m.take()).toBeUndefined();
    expect(m.stats()).toMatchObject({ received: 3, superseded: 2, dropped: 0, pending: 0 });
  });

  it('keep-last: a ring of N, oldest dropped first, order kept', () => {
    const m = new Mailbox<number>({ kind: 'keep-last', depth: 3 });
    for (let i = 0; i < 5; i++) m.push(i);
    expect([m.take(), m.take(), m.take(), m.take()]).toEqual([2, 3, 4, undefined]);
    expect(m.stats()).toMatchObject({ received: 5, dropped: 2 });
  });

  it('refuses a bad depth', () => {
    expect(() => new Mailbox({ kind: 'keep-last', depth: 0 })).toThrow(/depth/);
    expect(() => new Mailbox({ kind: 'keep-last', depth: 1.5 })).toThrow(/depth/);
  });

  it('property: what comes out is the newest min(N, pending) in order, and every message is accounted for', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.constant('take' as const), fc.nat()), { maxLength: 300 }),
        (depth, ops) => {
          const m = new Mailbox<number>({ kind: 'keep-last', depth });
          const model: number[] = [];
          let taken = 0;
          for (const op of ops) {
            if (op === 'take') {
              const got = m.take();
              expect(got).toBe(model.shift());
              if (got !== undefined) {
                m.delivered();
                taken++;
              }
            } else {
              m.push(op);
              model.push(op);
              if (model.length > depth) model.shift();
            }
          }
          const s = m.stats();
          expect(s.pending).toBe(model.length);
          expect(s.delivered).toBe(taken);
          expect(s.delivered + s.dropped + s.pending).toBe(s.received);
        },
      ),
    );
  });
});
