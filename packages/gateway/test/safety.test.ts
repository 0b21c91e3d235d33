import { randomBytes } from 'node:crypto';
import { Topics } from '@telekit/core';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WireError } from '../src/client/index.js';
import { signToken } from '../src/index.js';
import { jwtVerifier } from '../src/server/auth.js';
import { SECRET, startGateway } from './helpers.js';
import { startRedis } from './redis.js';
import { drive, recordingRobot } from './robot.js';

const token = (sub: string, role: 'viewer' | 'operator' | 'admin') =>
  signToken({ sub, role }, { secret: SECRET });
const auth = jwtVerifier({ secret: SECRET });

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

// The same suite on both backplanes: the gateway's own, and Redis (scale-out), which must keep the
// lease and the e-stop exactly as the local one does.
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(() => redis?.stop());
let backplane: 'local' | 'redis' = 'local';

async function rig(options: { deadmanMs?: number } = {}) {
  const g = await startGateway({
    auth,
    deadmanMs: options.deadmanMs ?? 250,
    ...(backplane === 'redis'
      ? { redis: { url: redis!.url, prefix: `safety-${randomBytes(4).toString('hex')}` } }
      : {}),
  });
  const robot = recordingRobot(g.app);
  cleanup.push(async () => {
    robot.stop();
    await g.close();
  });
  const connect = async (sub: string, role: 'viewer' | 'operator' | 'admin') => {
    const c = g.client({ token: await token(sub, role) });
    const faults: WireError[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    await c.connect();
    return Object.assign(c, { faults });
  };
  return { g, robot, connect };
}

describe.each(['local', 'redis'] as const)('teleop safety at the edge (%s backplane)', (which) => {
  beforeAll(() => {
    backplane = which;
  });
  it('only the lease holder drives; others are refused with the holder named', async () => {
    const { robot, connect } = await rig();
    const alice = await connect('alice', 'operator');
    const bob = await connect('bob', 'operator');
    // Others see the holder by name; its id is the session's public id, never one a client chose.
    const holder = { id: alice.clientId, name: 'alice', role: 'operator' };
    expect(alice.clientId).toMatch(/^operator-[\w-]+$/);
    expect(await alice.requestControl()).toEqual({ granted: true, holder });
    expect(await bob.requestControl()).toEqual({ granted: false, reason: 'held', holder });
    alice.publish(Topics.twist, drive(0.5));
    bob.publish(Topics.twist, drive(0.9));
    await vi.waitFor(() => expect(bob.faults.map((f) => f.code)).toContain('E_NOT_HOLDER'));
    await vi.waitFor(() => expect(robot.moving().map((t) => t.linear.x)).toEqual([0.5]));
    expect(robot.twists[0]?.header.sender).toBe(alice.clientId);
    // One refusal, one fault: an answer on the same lane comes after anything the command caused.
    await bob.requestControl();
    expect(bob.faults.map((f) => f.code)).toEqual(['E_NOT_HOLDER']);
    expect(alice.holdsControl).toBe(true);
    expect(bob.holdsControl).toBe(false);
  });

  it("the gateway vouches for the sender: a client cannot command in another's name", async () => {
    const { robot, connect } = await rig();
    const alice = await connect('alice', 'operator');
    await alice.requestControl();
    alice.publish(Topics.twist, {
      ...drive(0.3),
      header: { ...drive(0).header, sender: 'operator-someone-else' },
    });
    await vi.waitFor(() => expect(robot.moving()).toHaveLength(1));
    expect(robot.moving()[0]?.header.sender).toBe(alice.clientId);
  });

  it('viewers watch: they can neither take control nor publish commands', async () => {
    const { robot, connect } = await rig();
    const eve = await connect('eve', 'viewer');
    expect(await eve.requestControl()).toMatchObject({ granted: false, reason: 'forbidden' });
    eve.publish(Topics.twist, drive(1));
    eve.publish(Topics.estop, { header: drive(0).header, engage: true });
    await vi.waitFor(() => expect(eve.faults.filter((f) => f.code === 'E_FORBIDDEN')).toHaveLength(2));
    expect(eve.faults[0]?.message).toBe('role viewer may not publish /controller/twist');
    expect(robot.twists).toEqual([]);
    expect(robot.estops).toEqual([]);
  });

  it('an admin can take over; the previous holder is refused from then on', async () => {
    const { robot, connect } = await rig();
    const alice = await connect('alice', 'operator');
    const root = await connect('root', 'admin');
    await alice.requestControl();
    expect(await root.requestControl()).toMatchObject({ granted: false, reason: 'held' });
    expect(await root.requestControl({ takeover: true })).toMatchObject({
      granted: true,
      holder: { id: root.clientId, name: 'root' },
    });
    await vi.waitFor(() => expect(alice.holdsControl).toBe(false));
    alice.publish(Topics.twist, drive(0.5));
    root.publish(Topics.twist, drive(0.2));
    await vi.waitFor(() => expect(robot.moving().map((t) => t.header.sender)).toEqual([root.clientId]));
    await vi.waitFor(() => expect(alice.faults.map((f) => f.code)).toContain('E_NOT_HOLDER'));
  });

  it('the lease is released when its holder disconnects, and the robot is stopped at once', async () => {
    const { robot, connect } = await rig({ deadmanMs: 60_000 });
    const alice = await connect('alice', 'operator');
    const bob = await connect('bob', 'operator');
    await alice.requestControl();
    alice.publish(Topics.twist, drive(0.5));
    await vi.waitFor(() => expect(robot.moving()).toHaveLength(1));
    const released = firstValueFrom(bob.lease$.pipe(filter((h) => h === null)));
    await alice.close();
    await released;
    // The deadman is a minute here: the zero comes from the lease ending, not from the deadman.
    await vi.waitFor(() => expect(robot.last()?.linear.x).toBe(0));
    expect(await bob.requestControl()).toMatchObject({ granted: true });
  });

  it('deadman: no fresh command → exactly one zero command', async () => {
    const { robot, connect } = await rig({ deadmanMs: 100 });
    const alice = await connect('alice', 'operator');
    await alice.requestControl();
    for (let i = 0; i < 3; i++) {
      alice.publish(Topics.twist, drive(0.5));
      await new Promise((r) => setTimeout(r, 20));
    }
    await vi.waitFor(() => expect(robot.last()?.linear.x).toBe(0));
    await new Promise((r) => setTimeout(r, 300));
    expect(robot.twists.filter((t) => t.linear.x === 0)).toHaveLength(1);
    expect(robot.moving().length).toBeGreaterThanOrEqual(1);
  });

  it('e-stop: any operator latches it, it stops the robot and blocks commands until cleared', async () => {
    const { robot, connect, g } = await rig({ deadmanMs: 60_000 });
    const alice = await connect('alice', 'operator');
    const bob = await connect('bob', 'operator');
    await alice.requestControl();
    alice.publish(Topics.twist, drive(0.5));
    await vi.waitFor(() => expect(robot.moving()).toHaveLength(1));
    const latched = firstValueFrom(alice.estop$.pipe(filter((s) => s.latched)));
    bob.publish(Topics.estop, { header: drive(0).header, engage: true, reason: 'test' });
    expect(await latched).toEqual({ latched: true, by: 'bob', byId: bob.clientId, reason: 'test' });
    await vi.waitFor(() => expect(robot.last()?.linear.x).toBe(0));
    expect(robot.estops.map((e) => e.engage)).toEqual([true]);
    alice.publish(Topics.twist, drive(0.7));
    await vi.waitFor(() => expect(alice.faults.map((f) => f.code)).toContain('E_ESTOP'));
    expect(robot.moving()).toHaveLength(1);
    const cleared = firstValueFrom(alice.estop$.pipe(filter((s) => !s.latched)));
    bob.publish(Topics.estop, { header: drive(0).header, engage: false });
    await cleared;
    alice.publish(Topics.twist, drive(0.4));
    await vi.waitFor(() => expect(robot.moving().map((t) => t.linear.x)).toEqual([0.5, 0.4]));
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_estops_total')).toContain(
      'telekit_estops_total 1',
    );
  });

  it('commands past their deadline are dropped and the sender told', async () => {
    const { robot, connect } = await rig();
    const alice = await connect('alice', 'operator');
    await alice.requestControl();
    alice.publish(Topics.twist, drive(0.5, { stampShift: -2_000 }));
    await vi.waitFor(() => expect(alice.faults.map((f) => f.code)).toContain('E_STALE'));
    expect(alice.faults.find((f) => f.code === 'E_STALE')?.message).toMatch(
      /command dropped: \d+ ms old, past its deadline/,
    );
    expect(robot.twists).toEqual([]);
  });

  it('a command on its way to a watching client is not delivered past its deadline', async () => {
    // For one command the gateway's clock runs 3 s ahead of the app's: the command is fresh on the
    // app's bus and past its deadline by the time the gateway would send it on.
    let skew = 0;
    const g = await startGateway({ clock: { now: () => Date.now() + skew } });
    cleanup.push(g.close);
    const watcher = g.client({ probeIntervalMs: 600_000 });
    const seen: number[] = [];
    watcher.subscribe(Topics.twist).subscribe((t) => seen.push(t.linear.x));
    await watcher.connect();
    await new Promise((r) => setTimeout(r, 100)); // the subscription reaches the gateway
    skew = 3_000;
    g.app.publish(Topics.twist, drive(0.1));
    await vi.waitFor(async () =>
      expect(await g.gateway.metrics.registry.metrics()).toMatch(
        /telekit_dropped_total\{lane="control",reason="stale"\} 1\b/,
      ),
    );
    skew = 0;
    g.app.publish(Topics.twist, drive(0.2));
    await vi.waitFor(() => expect(seen).toEqual([0.2]));
  });

  it('lease changes reach every client', async () => {
    const { connect } = await rig();
    const alice = await connect('alice', 'operator');
    const bob = await connect('bob', 'operator');
    const seen = firstValueFrom(bob.lease$.pipe(take(3), toArray()));
    await alice.requestControl();
    await alice.releaseControl();
    expect(await seen).toEqual([null, { id: alice.clientId, name: 'alice', role: 'operator' }, null]);
  });
});
