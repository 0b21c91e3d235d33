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
});
