import { type Header, silentLogger, systemClock } from '@telekit/core';
import type { SimAction, SimulatorState } from '@telekit/core/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SidecarActuation,
  type SidecarEvent,
  type SidecarSimulator,
  sidecarSimulator,
} from '../src/index.js';
import { type HandSidecar, sleep, stamp, startSidecar, until } from './helpers.js';

// The sidecar's own safety: its deadman, deadlines judged where commands act, every command's fate,
// and a supervisor that a busy Node cannot fool into restarting a healthy sidecar.

const twist = (x: number): SimAction => ({
  kind: 'twist',
  linear: { x, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});
let seq = 0;
const header = (ttl?: number): Header => ({
  seq: seq++,
  stamp: stamp(),
  sender: 'safety-test',
  ...(ttl === undefined ? {} : { ttl }),
});

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function running(options: Parameters<typeof sidecarSimulator>[0] = {}): Promise<SidecarSimulator> {
  const sim = sidecarSimulator({ logger: silentLogger, ...options });
  open.push(sim);
  await sim.loadScene({ id: 'diff-drive' });
  await sim.run({ stateHz: 100 });
  return sim;
}

/** The base's latest state from `state$`. */
function follow(sim: SidecarSimulator) {
  let latest: SimulatorState | undefined;
  const sub = sim.state$.subscribe((s) => {
    latest = s;
  });
  open.push({ close: () => sub.unsubscribe() });
  return {
    get position() {
      const p = latest?.base?.position;
      if (!p) throw new Error('no base state yet');
      return { x: p.x, y: p.y };
    },
    get time() {
      return latest?.time ?? 0;
    },
  };
}

const distance = (a: { x: number; y: number }, b: { x: number; y: number }) =>
  Math.hypot(a.x - b.x, a.y - b.y);

/** Events a second (observer) connection sees. */
async function observe(sim: SidecarSimulator) {
  const conn = await sim.openConnection();
  open.push(conn);
  const events: (SidecarEvent & { seenAt: number })[] = [];
  conn.events$.subscribe((e) => events.push({ ...e, seenAt: performance.now() }));
  return { conn, trips: () => events.filter((e) => e.event === 'deadman') };
}

describe('the deadman in the sidecar', () => {
  it('commands going quiet stop the robot after the deadman time, never before', async () => {
    const commandMs = 400;
    const sim = await running({ deadman: { commandMs } });
    const base = follow(sim);
    const { trips } = await observe(sim);
    const drive = setInterval(() => sim.act(twist(0.5), header()), 50);
    try {
      await until(() => base.time > 0.1, 5_000);
      const start = base.position;
      await sleep(1_200);
      // Commands flow: no trip, the robot drives.
      expect(trips()).toHaveLength(0);
      expect(distance(base.position, start)).toBeGreaterThan(0.2);
    } finally {
      clearInterval(drive);
    }
    expect(await until(() => trips().length > 0, 5_000)).toBe(true);
    const trip = trips()[0]!;
    expect(trip.reason).toBe('command');
    // By the sidecar's own clock: not before the deadman time (generous above: a loaded machine).
    expect(trip.sinceCommandMs as number).toBeGreaterThanOrEqual(commandMs);
    expect(trip.sinceCommandMs as number).toBeLessThan(commandMs + 1_000);
    // The robot stays where it stopped (it rocks on its casters for a moment after an abrupt stop).
    await sleep(300);
    const stopped = base.position;
    await sleep(700);
    expect(distance(base.position, stopped)).toBeLessThan(0.02);
    expect((await sim.stats()).deadmanTrips).toBe(1);
    // Once: a stopped robot is not stopped again and again.
    expect(trips()).toHaveLength(1);
  }, 30_000);

  it('a starved Node: the sidecar stops the robot for want of heartbeats, and the supervisor does not restart it', async () => {
    const sim = await running({
      heartbeat: { everyMs: 100, timeoutMs: 1_000 },
      deadman: { commandMs: 20_000, heartbeatMs: 600 },
    });
    const base = follow(sim);
    const { trips } = await observe(sim);
    const drive = setInterval(() => sim.act(twist(0.5), header(5_000)), 50);
    try {
      await until(() => base.time > 0.5, 5_000);
      // The sidecar busy for a moment (a long step): pings wait in its socket, in flight...
      void sim.step(100_000).catch(() => undefined);
      await sleep(150);
      // ...when Node's event loop blocks for 2.5 s: no pings, no commands, no timers. The sidecar
      // answers meanwhile; the answers wait in Node's socket.
      const end = performance.now() + 2_500;
      while (performance.now() < end) {
        // busy
      }
      const after = performance.now();
      // The heartbeat timer runs again; the answers that waited in the socket count, Node's lateness does not.
      await until(() => performance.now() - after > 1_500, 2_000);
    } finally {
      clearInterval(drive);
    }
    expect(sim.restarts).toBe(0);
    expect(sim.health().status).toBe('ok');
    expect(trips().map((t) => t.reason)).toContain('heartbeat');
    expect((await sim.stats()).deadmanTrips).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('a hung sidecar (SIGSTOP) is restarted', async () => {
    const sim = await running({ heartbeat: { everyMs: 100, timeoutMs: 1_000 } });
    const pid = sim.process!.pid!;
    process.kill(pid, 'SIGSTOP');
    expect(await until(() => sim.restarts === 1, 15_000)).toBe(true);
    expect(sim.process!.pid).not.toBe(pid);
    expect(sim.health().status).toBe('ok');
  }, 30_000);

  it('with the supervisor silent, commands are refused until it pings again', async () => {
    const side: HandSidecar = await startSidecar({
      args: ['--supervised', '--heartbeat-timeout-ms', '300', '--command-timeout-ms', '20000'],
      stdinLine: 'tok',
    });
    open.push(side);
    const c = await side.connect('tok');
    open.push(c);
    const fates: SidecarEvent[] = [];
    c.events$.subscribe((e) => {
      if (e.event === 'actuation') fates.push(e);
    });
    await c.request('load_scene', { scene: { id: 'diff-drive' } });
    await c.request('ping', { t: stamp() });
    await c.request('run', { state_hz: 50 });
    const act = async () => {
      const h = header(10_000);
      await c.request('act', { action: twist(0.5), command: h });
      await until(() => fates.some((f) => (f.command as Header).seq === h.seq), 5_000);
      return fates.find((f) => (f.command as Header).seq === h.seq)!.fate;
    };
    expect(await act()).toBe('applied');
    await sleep(700); // no pings
    expect(await act()).toBe('refused');
    await c.request('ping', { t: stamp() });
    expect(await act()).toBe('applied');
    expect(side.stderr.join('\n')).toMatch(/deadman: no heartbeat from the supervisor for \d+ ms/);
  }, 30_000);
});

describe('deadlines and fates where commands act', () => {
  it('a command that waits past its deadline is dropped at the step, never applied late', async () => {
    const sim = sidecarSimulator({ logger: silentLogger });
    open.push(sim);
    await sim.loadScene({ id: 'diff-drive' });
    const reports: SidecarActuation[] = [];
    sim.actuations$.subscribe((a) => reports.push(a));
    const before = await sim.step();
    const h = header(50);
    sim.act(twist(0.5), h);
    await sleep(300); // it arrived in time, then waited for the step past its deadline
    const after = await sim.step(200);
    expect(reports.map((r) => [r.command.seq, r.fate])).toEqual([[h.seq, 'expired']]);
    expect(distance(after.base!.position, before.base!.position)).toBeLessThan(0.01);
    expect((await sim.stats()).fates.applied).toBe(0);
  }, 30_000);

  it('refused, superseded, e-stopped, applied: one report each, in Node clock time', async () => {
    const sim = sidecarSimulator({ logger: silentLogger });
    open.push(sim);
    await sim.loadScene({ id: 'diff-drive' });
    const reports: SidecarActuation[] = [];
    sim.actuations$.subscribe((a) => reports.push(a));
    const [unknown, first, second, stop, last] = [header(), header(), header(), header(), header()];
    sim.act({ kind: 'joints', name: ['wrist'], position: [1] }, unknown); // this scene has no such joint
    sim.act(twist(0.3), first);
    sim.act(twist(0.4), second); // replaces first
    sim.act({ kind: 'freeze' }, stop); // replaces second
    await sim.step(2);
    sim.act(twist(0.2), last);
    await sim.step(2);
    await until(() => reports.length >= 5, 5_000);
    const fate = (h: Header) => reports.filter((r) => r.command.seq === h.seq).map((r) => r.fate);
    expect(fate(unknown)).toEqual(['refused']);
    expect(fate(first)).toEqual(['superseded']);
    expect(fate(second)).toEqual(['estop']);
    expect(fate(stop)).toEqual(['applied']);
    expect(fate(last)).toEqual(['applied']);
    expect(reports).toHaveLength(5);
    expect(reports.find((r) => r.command.seq === stop.seq)!.kind).toBe('freeze');
    // Times on Node's clock: never before the command was stamped, and not in the future.
    for (const r of reports) {
      expect(r.at).toBeGreaterThanOrEqual(r.command.stamp);
      expect(r.at).toBeLessThanOrEqual(systemClock.now());
    }
    const stats = await sim.stats();
    expect(stats.fates).toEqual({ applied: 2, superseded: 1, expired: 0, estop: 1, refused: 1 });
  }, 30_000);

  it("maps its clock to Node's from the pings, to within a few ms", async () => {
    const sim = sidecarSimulator({ logger: silentLogger });
    open.push(sim);
    await sim.loadScene({ id: 'diff-drive' });
    const { clock } = await sim.stats();
    expect(clock.synced).toBe(true);
    // Node's clock minus CLOCK_MONOTONIC (Python's time.monotonic() and Node's hrtime read the same clock).
    const truth = systemClock.now() - Number(process.hrtime.bigint()) / 1e6;
    expect(Math.abs(clock.offsetMs - truth)).toBeLessThan(5);
  }, 30_000);
});
