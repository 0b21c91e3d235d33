import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { isZeroTwist, zeroTwist } from '../commands.js';
import type { Twist } from '../schemas/control.js';
import { ControlLease } from './control-lease.js';
import { type SafetyEvent, SafetyGate } from './safety-gate.js';

function rig(options: { lease?: boolean } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const clock = { now: () => scheduler.now() };
  const lease = options.lease ? new ControlLease({ clock }) : undefined;
  const gate = new SafetyGate<Twist>({
    clock,
    scheduler,
    deadmanMs: 250,
    ttl: 200,
    zero: (last, now) => zeroTwist(now, last?.header),
    ...(lease ? { lease } : {}),
  });
  const input = new Subject<Twist>();
  const out: { t: number; x: number; zero: boolean }[] = [];
  const events: SafetyEvent[] = [];
  input
    .pipe(gate.apply())
    .subscribe((c) => out.push({ t: scheduler.now(), x: c.linear.x, zero: isZeroTwist(c) }));
  gate.events$.subscribe((e) => events.push(e));
  let seq = 0;
  const send = (x: number, sender = 'alice', stampOffset = 0) =>
    input.next({
      header: { seq: seq++, stamp: scheduler.now() + stampOffset, sender },
      linear: { x, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
  const at = (t: number, fn: () => void) => scheduler.schedule(fn, t);
  return { scheduler, gate, lease, input, out, events, send, at };
}

describe('SafetyGate', () => {
  it('passes fresh commands and stops the robot once after the deadman time', () => {
    const r = rig();
    r.at(0, () => r.send(0.5));
    r.at(100, () => r.send(0.6));
    r.scheduler.flush();
    expect(r.out).toEqual([
      { t: 0, x: 0.5, zero: false },
      { t: 100, x: 0.6, zero: false },
      { t: 350, x: 0, zero: true },
    ]);
    expect(r.events.map((e) => e.type)).toEqual(['deadman']);
    expect(r.gate.stats()).toMatchObject({ accepted: 2, deadmanTrips: 1 });
  });

  it('drops stale commands and out-of-order ones', () => {
    const r = rig();
    r.at(1000, () => {
      r.send(0.1, 'alice', -500); // 500 ms old, ttl 200
      r.input.next({
        header: { seq: 10, stamp: 1000, sender: 'bob' },
        linear: { x: 1, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
      r.input.next({
        header: { seq: 9, stamp: 990, sender: 'bob' },
        linear: { x: 2, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
    });
    r.scheduler.flush();
    expect(r.out.filter((o) => !o.zero).map((o) => o.x)).toEqual([1]);
    expect(r.events.map((e) => e.type)).toEqual(['stale', 'out-of-order', 'deadman']);
    expect(r.gate.stats()).toMatchObject({ stale: 1, outOfOrder: 1, accepted: 1 });
  });

  it('e-stop overrides everything: zero at once, nothing passes, fresh commands after clearing', () => {
    const r = rig();
    r.at(0, () => r.send(0.5));
    r.at(50, () => r.gate.estop.engage('bob', 'test'));
    r.at(60, () => r.send(0.7));
    r.at(100, () => r.gate.estop.clear('bob'));
    r.at(500, () => r.send(0.3));
    r.scheduler.flush();
    expect(r.out.map((o) => [o.t, o.x])).toEqual([
      [0, 0.5],
      [50, 0],
      // The deadman armed by the command at 0 still fires after the clear: a harmless extra stop.
      [250, 0],
      [500, 0.3],
      [750, 0],
    ]);
    expect(r.events.map((e) => e.type)).toEqual(['estop', 'estop-blocked', 'estop', 'deadman', 'deadman']);
    expect(r.events[0]).toMatchObject({ type: 'estop', engaged: true, by: 'bob', reason: 'test' });
  });

  it('with a lease, only the holder drives; others are refused and reported', () => {
    const r = rig({ lease: true });
    r.lease!.acquire({ id: 'alice', role: 'operator' });
    r.at(0, () => {
      r.send(0.5, 'alice');
      r.send(0.9, 'mallory');
    });
    r.scheduler.flush();
    expect(r.out.filter((o) => !o.zero).map((o) => o.x)).toEqual([0.5]);
    expect(r.events.find((e) => e.type === 'not-holder')).toEqual({
      type: 'not-holder',
      sender: 'mallory',
      seq: 1,
      holder: 'alice',
    });
  });

  it('reports lease changes and closes its events', () => {
    const r = rig({ lease: true });
    r.lease!.acquire({ id: 'alice', role: 'operator' });
    let done = false;
    r.gate.events$.subscribe({ complete: () => (done = true) });
    r.gate.close();
    expect(r.events[0]).toMatchObject({ type: 'lease', change: { reason: 'acquired' } });
    expect(done).toBe(true);
  });

  it('uses the per-sender clock offset for deadlines', () => {
    const clock = manualClock(10_000);
    const gate = new SafetyGate<Twist>({
      clock,
      ttl: 200,
      offset: () => 5_000,
      zero: (l, now) => zeroTwist(now, l?.header),
    });
    const out: Twist[] = [];
    const input = new Subject<Twist>();
    input.pipe(gate.apply()).subscribe((c) => out.push(c));
    input.next({
      header: { seq: 1, stamp: 4_900, sender: 'a' },
      linear: { x: 1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    expect(out).toHaveLength(1);
    input.complete();
  });

  describe('check(): the verdict for one command', () => {
    const twist = (seq: number, stamp: number, extra: { ttl?: number } = {}): Twist => ({
      header: { seq, stamp, sender: 'a', ...extra },
      linear: { x: 1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    const make = (offset = 0) =>
      new SafetyGate<Twist>({
        clock: manualClock(10_000),
        ttl: 250,
        offset: () => offset,
        zero: (l, now) => zeroTwist(now, l?.header),
      });

    it('admits with the header on the receiver clock and the effective deadline', () => {
      const v = make(2_000).check(twist(1, 7_990, { ttl: 100 }));
      expect(v).toMatchObject({ ok: true, command: { header: { stamp: 9_990, ttl: 100 } } });
    });

    it('a command cannot lengthen its own deadline', () => {
      const gate = make();
      expect(gate.check(twist(1, 9_700, { ttl: 60_000 }))).toMatchObject({ ok: false, reason: 'stale' });
      expect(gate.check(twist(2, 9_900, { ttl: 60_000 }))).toMatchObject({
        ok: true,
        command: { header: { ttl: 250 } },
      });
    });

    it('refuses stamps from the future beyond the tolerance', () => {
      const gate = make();
      expect(gate.check(twist(1, 10_050))).toMatchObject({ ok: true });
      expect(gate.check(twist(2, 40_000))).toMatchObject({
        ok: false,
        reason: 'stale',
        event: { reason: 'future' },
      });
    });

    it('a higher sequence number with an older stamp is out of order', () => {
      const gate = make();
      expect(gate.check(twist(1, 9_950)).ok).toBe(true);
      expect(gate.check(twist(2, 9_900))).toMatchObject({ ok: false, reason: 'out-of-order' });
      expect(gate.check(twist(1, 9_990))).toMatchObject({ ok: false, reason: 'out-of-order' });
      expect(gate.check(twist(3, 9_990)).ok).toBe(true);
    });

    it('says e-stop while latched, and stops commands that have no zero without emitting one', () => {
      const scheduler = new VirtualTimeScheduler();
      const gate = new SafetyGate<Twist>({
        clock: { now: () => scheduler.now() },
        scheduler,
        deadmanMs: false,
        zero: () => undefined,
      });
      const out: Twist[] = [];
      const input = new Subject<Twist>();
      input.pipe(gate.apply()).subscribe((c) => out.push(c));
      input.next(twist(1, 0));
      gate.estop.engage('someone');
      expect(gate.check(twist(2, 0))).toMatchObject({ ok: false, reason: 'estop' });
      scheduler.flush();
      expect(out).toHaveLength(1);
    });
  });
});
