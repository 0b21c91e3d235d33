import { describe, expect, it } from 'vitest';
import { fieldReader } from './mapping.js';
import { actedOn, resample, type Sample } from './timeline.js';

const x = { read: fieldReader('x'), before: undefined };
const at = (t: number, json: unknown): Sample => ({ t, json });

describe('resample', () => {
  it('holds each sample until the next one, at every tick', () => {
    const samples = [at(0, { x: 1 }), at(25, { x: 2 }), at(40, { x: 3 })];
    expect(resample(x, samples, [0, 10, 20, 30, 40, 50])).toEqual([1, 1, 1, 2, 3, 3]);
  });

  it('holds backwards to the first sample before it, or the field’s own `before`', () => {
    const samples = [at(20, { x: 7 })];
    expect(resample(x, samples, [0, 10, 20])).toEqual([7, 7, 7]);
    expect(resample({ ...x, before: 0 }, samples, [0, 10, 20])).toEqual([0, 0, 7]);
  });

  it('skips samples that do not carry the field', () => {
    const samples = [at(0, { x: 1 }), at(10, { y: 5 }), at(20, { x: 2 })];
    expect(resample(x, samples, [0, 10, 20])).toEqual([1, 1, 2]);
  });

  it('stands in with another field before the first sample (beforeFrom)', () => {
    const measured = [at(0, { x: 0.5 }), at(10, { x: 0.6 })];
    const target = { ...x, beforeFrom: { topic: '/measured', read: fieldReader('x') } };
    expect(resample(target, [at(20, { x: 1 })], [0, 10, 20], () => measured)).toEqual([0.5, 0.6, 1]);
  });
});

describe('actedOn', () => {
  const command = (seq: number) => at(seq, { header: { sender: 'op', seq } });
  const fate = (seq: number, f: string) =>
    at(seq, { command: { topic: '/controller/twist', sender: 'op', seq }, fate: f });

  it('keeps the commands reported applied and those with no report; drops the rest', () => {
    const byTopic = new Map([
      ['/controller/twist', [command(1), command(2), command(3), command(4)]],
      ['/telemetry/actuation', [fate(1, 'applied'), fate(2, 'superseded'), fate(4, 'estop')]],
    ]);
    expect(actedOn(byTopic)('/controller/twist').map((s) => s.t)).toEqual([1, 3]);
  });
});
