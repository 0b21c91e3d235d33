import { Topics } from '@telekit/core';
import { describe, expect, it } from 'vitest';
import { supersededBy } from './data-lane-options.js';

const twist = (seq: number) => ({ header: { seq, stamp: 0, sender: 'c' } });

describe('supersededBy', () => {
  it('passes newer commands, drops a copy as duplicate and an overtaken one as reordered, per topic', () => {
    const recent = new Map<string, number[]>();
    const t = Topics.twist.name;
    expect(supersededBy(recent, t, twist(5))).toBeUndefined();
    expect(supersededBy(recent, t, twist(5))).toBe('duplicate');
    expect(supersededBy(recent, t, twist(7))).toBeUndefined();
    expect(supersededBy(recent, t, twist(6))).toBe('reordered');
    // The overtaken one's own copy is a copy, not reordered again.
    expect(supersededBy(recent, t, twist(6))).toBe('duplicate');
    // Another streamed topic keeps its own numbers.
    expect(supersededBy(recent, Topics.joints.name, twist(1))).toBeUndefined();
  });

  it('leaves what it cannot judge to the gate: other topics, no numeric seq', () => {
    const recent = new Map<string, number[]>();
    expect(supersededBy(recent, Topics.estop.name, twist(1))).toBeUndefined();
    expect(supersededBy(recent, Topics.estop.name, twist(1))).toBeUndefined();
    expect(supersededBy(recent, Topics.twist.name, { header: { seq: 'x' } })).toBeUndefined();
    expect(supersededBy(recent, Topics.twist.name, null)).toBeUndefined();
    expect(supersededBy(recent, 42, twist(1))).toBeUndefined();
  });

  it('remembers a bounded number of seqs per topic', () => {
    const recent = new Map<string, number[]>();
    for (let s = 0; s < 100; s++) supersededBy(recent, Topics.twist.name, twist(s));
    expect(recent.get(Topics.twist.name)!.length).toBeLessThanOrEqual(8);
  });
});
