import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Topics, type Twist } from '@telekit/core';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GatewayClient, gatewayClient } from '../src/client/index.js';
import { startRedis } from './redis.js';
import { drive } from './robot.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
const clients: GatewayClient[] = [];
let redisUrl = '';

function start(cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

async function startInstance(robot: boolean) {
  const child = start(
    `${root}node_modules/.bin/tsx`,
    ['--conditions=source', 'packages/gateway/test/fixtures/gateway-process.ts'],
    {
      REDIS_URL: redisUrl,
      ROBOT: robot ? '1' : '0',
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const pendingTwists: ((t: Twist[]) => void)[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) resolve(line.slice(6));
      if (line.startsWith('twists ')) pendingTwists.shift()?.(JSON.parse(line.slice(7)) as Twist[]);
    });
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)));
  });
  return {
    url,
    twists: () =>
      new Promise<Twist[]>((resolve) => {
        pendingTwists.push(resolve);
        child.stdin!.write('twists\n');
      }),
  };
}

const connect = async (url: string, _name: string) => {
  const c = gatewayClient({ url });
  clients.push(c);
  await c.connect();
  return c;
};

let a: Awaited<ReturnType<typeof startInstance>>;
let b: Awaited<ReturnType<typeof startInstance>>;

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
  redisUrl = redis.url;
  [a, b] = await Promise.all([startInstance(true), startInstance(false)]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  for (const child of children.reverse()) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await redis.stop();
});

describe('scale-out through Redis: two gateway processes', () => {
  it('telemetry published through one instance reaches the clients of the other', async () => {
    const viewer = await connect(b.url, 'viewer-on-b');
    const got: number[] = [];
    viewer.subscribe(Topics.battery).subscribe((m) => got.push(m.header.seq));
    await vi.waitFor(() => expect(got.length).toBeGreaterThan(5), { timeout: 5_000 });
    const seqs = [...got];
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('one lease across both instances; commands from either reach the robot', async () => {
    const alice = await connect(a.url, 'alice-on-a');
    const bob = await connect(b.url, 'bob-on-b');
    expect(await bob.requestControl()).toMatchObject({ granted: true, holder: { id: bob.clientId } });
    await vi.waitFor(() => expect((alice as GatewayClient).holdsControl).toBe(false));
    expect(await alice.requestControl()).toMatchObject({
      granted: false,
      reason: 'held',
      holder: { id: bob.clientId },
    });
    // Bob, on B, drives the robot attached to A.
    bob.publish(Topics.twist, drive(0.42));
    await vi.waitFor(async () => expect((await a.twists()).some((t) => t.linear.x === 0.42)).toBe(true), {
      timeout: 5_000,
    });
    // Bob leaves; the lease is free on both, and Alice gets it.
    const free = firstValueFrom(alice.lease$.pipe(filter((h) => h === null)));
    await bob.close();
    await free;
    expect(await alice.requestControl()).toMatchObject({
      granted: true,
      holder: { id: alice.clientId },
    });
    await alice.releaseControl();
  });

  it('an e-stop on one instance stops commands on the other; the lease holder on the other clears it', async () => {
    const carol = await connect(a.url, 'carol-on-a');
    const dave = await connect(b.url, 'dave-on-b');
    expect(await dave.requestControl()).toMatchObject({ granted: true });
    const seen = firstValueFrom(dave.estop$.pipe(filter((s) => s.latched)));
    carol.publish(Topics.estop, { header: drive(0).header, engage: true, reason: 'drill' });
    expect(await seen).toMatchObject({ latched: true, reason: 'drill', byId: carol.clientId });
    const refused = firstValueFrom(dave.faults$.pipe(filter((f) => f.code === 'E_ESTOP')));
    dave.publish(Topics.twist, drive(0.3));
    await refused;
    const cleared = firstValueFrom(carol.estop$.pipe(filter((s) => !s.latched)));
    dave.publish(Topics.estop, { header: drive(0).header, engage: false });
    await cleared;
  });
});
