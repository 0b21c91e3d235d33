import type { CommandFate } from '@telekit/core/schemas';
import { describe, expect, it } from 'vitest';
import { CommandStages } from './command-stages.js';

const TWIST = '/controller/twist';

/** A command admitted by the gateway, as the pub handler records it. */
function admit(
  stages: CommandStages,
  seq: number,
  t: { stamp: number; input?: number; offset?: number; received: number; admitted: number },
  topic = TWIST,
) {
  stages.admitted(topic, { seq }, { offset: 0, ...t });
}

/** Its actuation report (stamps on the gateway's clock). */
const report = (
  seq: number,
  fate: CommandFate,
  actuatedAt: number,
  receivedAt?: number,
  topic = TWIST,
  stamp = 0,
) => ({
  command: { topic, sender: 's', seq, stamp },
  actuatedAt,
  fate,
  ...(receivedAt === undefined ? {} : { receivedAt }),
});

describe('CommandStages', () => {
  it('times each stage of an applied command, from the input to its report', () => {
    const s = new CommandStages();
    // The page's clock runs 1 000 ms behind the gateway's: offset +1 000.
    admit(s, 1, { input: 100, stamp: 103, offset: 1_000, received: 1_105, admitted: 1_105.5 });
    const r = s.actuated(report(1, 'applied', 1_110, 1_107), 1_111);
    expect(Object.fromEntries(r.stages)).toEqual({
      input: 3,
      network: 2,
      gate: 0.5,
      forward: 1.5,
      apply: 3,
      report: 1,
    });
    expect(r.inputToActuation).toEqual([10]);
    const b = s.budget(1_111);
    expect(b.stages.map((x) => x.stage)).toEqual(['input', 'network', 'gate', 'forward', 'apply', 'report']);
    expect(b.stages[0]).toEqual({ stage: 'input', p50: 3, p99: 3, count: 1 });
    expect(b.inputToActuation).toEqual({ p50: 10, p99: 10, count: 1 });
    expect(b.fates).toEqual({ applied: 1 });
    expect(s.pending).toBe(0);
  });

  it('leaves out what was not measured: no input stamp, no receivedAt', () => {
    const s = new CommandStages();
    admit(s, 1, { stamp: 100, received: 102, admitted: 102 });
    const r = s.actuated(report(1, 'applied', 108), 109);
    expect(r.stages.map(([stage]) => stage)).toEqual(['network', 'gate', 'report']);
    // Without the input, input→actuation starts at the send.
    expect(r.inputToActuation).toEqual([8]);
  });

  it('never believes an input stamp well after the send or absurdly old; a hair after is the send', () => {
    const s = new CommandStages();
    admit(s, 1, { input: 160, stamp: 100, received: 100, admitted: 100 });
    admit(s, 2, { input: -1e9, stamp: 200, received: 200, admitted: 200 });
    admit(s, 3, { input: 300.4, stamp: 300, received: 300, admitted: 300 });
    expect(s.actuated(report(1, 'applied', 110), 110).stages.some(([x]) => x === 'input')).toBe(false);
    expect(s.actuated(report(2, 'applied', 210), 210).inputToActuation).toEqual([10]);
    const r = s.actuated(report(3, 'applied', 310), 310);
    expect(r.stages.find(([x]) => x === 'input')).toEqual(['input', 0]);
    expect(r.inputToActuation).toEqual([10]);
  });

  it('counts a superseded command until the newer one that replaced it was applied', () => {
    const s = new CommandStages();
    admit(s, 1, { input: 0, stamp: 0, received: 1, admitted: 1 });
    admit(s, 2, { input: 3, stamp: 3, received: 4, admitted: 4 });
    expect(s.actuated(report(1, 'superseded', 4), 4).inputToActuation).toEqual([]);
    const r = s.actuated(report(2, 'applied', 9, 5), 10);
    // seq 1's input (t=0) was carried out when seq 2 was applied (t=9).
    expect([...r.inputToActuation].sort((a, b) => a - b)).toEqual([6, 9]);
    const b = s.budget(10);
    expect(b.fates).toEqual({ superseded: 1, applied: 1 });
    expect(b.inputToActuation?.count).toBe(2);
    // The waterfall is of applied commands only.
    expect(b.stages.find((x) => x.stage === 'apply')?.count).toBe(1);
  });

  it('counts a command that never got a report of its own, when a later one is applied, as superseded', () => {
    const s = new CommandStages();
    admit(s, 1, { stamp: 0, received: 1, admitted: 1 });
    admit(s, 2, { stamp: 2, received: 3, admitted: 3 });
    // Another topic's pending command is not touched.
    admit(s, 1, { stamp: 2, received: 3, admitted: 3 }, '/controller/joints');
    s.actuated(report(2, 'applied', 8), 8);
    expect(s.budget(8).fates).toEqual({ applied: 1, superseded: 1 });
    expect(s.pending).toBe(1);
  });

  it('keeps expired, e-stopped and refused commands out of the latency, in the fates', () => {
    const s = new CommandStages();
    for (const [seq, fate] of [
      [1, 'expired'],
      [2, 'estop'],
      [3, 'refused'],
    ] as const) {
      admit(s, seq, { stamp: seq, received: seq, admitted: seq });
      expect(s.actuated(report(seq, fate, 300), 300)).toEqual({ stages: [], inputToActuation: [] });
    }
    const b = s.budget(300);
    expect(b.inputToActuation).toBeNull();
    expect(b.stages).toEqual([]);
    expect(b.fates).toEqual({ expired: 1, estop: 1, refused: 1 });
    expect(s.pending).toBe(0);
  });

  it('looks back windowMs only', () => {
    const s = new CommandStages(1_000);
    admit(s, 1, { stamp: 0, received: 1, admitted: 1 });
    s.actuated(report(1, 'applied', 5), 5);
    expect(s.budget(900).inputToActuation?.count).toBe(1);
    expect(s.budget(1_100)).toEqual({ windowMs: 1_000, stages: [], inputToActuation: null, fates: {} });
  });

  it('forgets the oldest commands that never got a report, so a silent actuator costs bounded memory', () => {
    const s = new CommandStages();
    for (let seq = 0; seq < 2_000; seq++) admit(s, seq, { stamp: seq, received: seq, admitted: seq });
    expect(s.pending).toBeLessThanOrEqual(512);
    // A report about a forgotten command changes only the fates.
    expect(s.actuated(report(0, 'applied', 5), 5).stages).toEqual([]);
  });
});
