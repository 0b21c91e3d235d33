import { describe, expect, it } from 'vitest';
import { DuplicateFilter } from './duplicate-filter.js';

const m = (seq: number, stamp = 1_000, sender = 'a') => ({ header: { seq, stamp, sender } });

describe('DuplicateFilter', () => {
  it('knows a copy by topic, sender, seq and stamp', () => {
    const f = new DuplicateFilter();
    expect(f.isDuplicate('/t', m(1))).toBe(false);
    expect(f.isDuplicate('/t', m(1))).toBe(true);
    expect(f.isDuplicate('/u', m(1)), 'another topic').toBe(false);
    expect(f.isDuplicate('/t', m(1, 1_000, 'b')), 'another sender').toBe(false);
    expect(f.isDuplicate('/t', m(1, 2_000)), 'a restarted sender: same seq, another stamp').toBe(false);
    expect(f.isDuplicate('/t', { no: 'header' }), 'no header: never a copy').toBe(false);
  });

  it('remembers a window of seqs per sender and a bounded number of senders', () => {
    const f = new DuplicateFilter({ window: 4, senders: 2 });
    for (let seq = 0; seq < 6; seq++) f.isDuplicate('/t', m(seq));
    expect(f.isDuplicate('/t', m(5))).toBe(true);
    expect(f.isDuplicate('/t', m(0)), 'out of the window: forgotten').toBe(false);
    f.isDuplicate('/t', m(0, 1_000, 'b'));
    f.isDuplicate('/t', m(0, 1_000, 'c'));
    expect(f.isDuplicate('/t', m(5)), 'the oldest sender was forgotten').toBe(false);
  });
});
