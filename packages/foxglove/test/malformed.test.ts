import {
  createApp,
  inProcess,
  type Plugin,
  silentLogger,
  Topics,
  type Transport,
  TransportToken,
} from '@telekit/core';
import { type Gateway, GatewayToken, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { foxglove } from '../src/index.js';
import { foxgloveClient, type Heard } from './foxglove-kit.js';

// Bad input: frames no client should send, binary and JSON, from one connection while another
// watches telemetry. The gateway's refusal budget is raised here so that one connection can send
// all of them (with the defaults it is cut off after 500, tested below with a second gateway).
const SECRET = 'foxglove-test-secret-of-at-least-32-bytes';
const FRAMES = 10_000;

/** A deterministic generator (mulberry32). */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `i`th malformed frame: text (JSON or not) or binary, each kind the endpoint must refuse. */
function malformed(
  i: number,
  rnd: () => number,
  advertised: number,
): { data: string | Buffer; binary: boolean } {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  const text = [
    () => bytes(1 + Math.floor(rnd() * 64)).toString('latin1'),
    () => '{"op":',
    () => JSON.stringify(Math.floor(rnd() * 1e9)),
    () => JSON.stringify([{ op: 'subscribe' }]),
    () => 'null',
    () => JSON.stringify({ op: 42 }),
    () => JSON.stringify({ op: `nope-${i}` }),
    () => JSON.stringify({ op: 'subscribe', subscriptions: 'all' }),
    () => JSON.stringify({ op: 'subscribe', subscriptions: [{ id: -1, channelId: 1 }] }),
    () => JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 2 ** 40, channelId: 'x' }] }),
    () => JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 1_000_000 + i, channelId: 999_999 }] }),
    () => JSON.stringify({ op: 'unsubscribe', subscriptionIds: [i + 5_000_000] }),
    () => JSON.stringify({ op: 'advertise', channels: [{ id: 1, topic: 7 }] }),
    () =>
      JSON.stringify({
        op: 'advertise',
        channels: [{ id: 9, topic: '/x', encoding: 'cdr', schemaName: 'x' }],
      }),
    () => JSON.stringify({ op: 'unadvertise', channelIds: ['a'] }),
    () => JSON.stringify({ op: 'getParameters', parameterNames: ['a'] }),
    () => JSON.stringify({ op: 'fetchAsset', uri: 'file:///etc/passwd', requestId: 1 }),
    () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
    () =>
      JSON.stringify({
        op: 'subscribe',
        subscriptions: Array.from({ length: 300 }, (_, k) => ({ id: k, channelId: 1 })),
      }),
  ];
  const binary = [
    () => Buffer.alloc(0),
    () => Buffer.from([1]),
    () => Buffer.from([1, 0, 0]),
    () => Buffer.concat([Buffer.from([1, 0xff, 0xff, 0, 0]), bytes(16)]),
    () => Buffer.concat([Buffer.from([2]), bytes(32)]),
    () => Buffer.concat([Buffer.from([1 + Math.floor(rnd() * 254) + 1]), bytes(8)]),
    () => bytes(1 + Math.floor(rnd() * 128)),
    () => {
      const b = Buffer.alloc(5);
      b[0] = 1;
      b.writeUInt32LE(advertised, 1);
      return Buffer.concat([b, Buffer.from('{"linear": ')]);
    },
    () => {
      const b = Buffer.alloc(5);
      b[0] = 1;
      b.writeUInt32LE(advertised, 1);
      return Buffer.concat([b, Buffer.from(JSON.stringify({ linear: 'fast', angular: null }))]);
    },
    () => Buffer.alloc(20_000, 1),
  ];
  if (rnd() < 0.5) return { data: text[Math.floor(rnd() * text.length)]!(), binary: false };
  return { data: binary[Math.floor(rnd() * binary.length)]!(), binary: true };
}

async function start(limits: Record<string, number>) {
  let gw: Gateway | undefined;
  let transport: Transport | undefined;
  const grab: Plugin = {
    name: 'grab',
    requires: [GatewayToken, TransportToken],
    setup(ctx) {
      gw = ctx.resolve(GatewayToken);
      transport = ctx.resolve(TransportToken);
    },
  };
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      gateway({ auth: jwtVerifier({ secret: SECRET }), port: 0, limits }),
      foxglove(),
      grab,
    ],
  });
  await app.start();
  let seq = 0;
  const pose = setInterval(
    () =>
      transport!.publish(Topics.pose, {
        header: { seq: seq++, stamp: Date.now(), sender: 'robot' },
        frame: 'world',
        position: { x: seq / 100, y: 0, z: 0 },
        orientation: { x: 0, y: 0, z: 0, w: 1 },
      }),
    20,
  );
  const base = gw!.url.replace(/^http/, 'ws');
  const open = async (sub: string, role: 'viewer' | 'operator') =>
    foxgloveClient(
      `${base}/foxglove?token=${await signToken({ sub, role }, { secret: SECRET })}`,
      'foxglove.sdk.v1',
    );
  return {
    open,
    async stop() {
      clearInterval(pose);
      await app.stop();
    },
  };
}

/** Subscribes `c` to the pose channel; returns how many pose messages it has had so far. */
async function watchPose(c: Heard): Promise<() => number> {
  const ch = (await c.channels).find((x) => x.topic === '/telemetry/pose')!;
  const id = c.client.subscribe(ch.id);
  return () => c.messages.get(id)?.length ?? 0;
}

describe('malformed frames', () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    s = await start({ disconnectAfter: 1_000_000 });
  }, 60_000);
  afterAll(() => s?.stop());

  it(`${FRAMES} malformed frames: refused, answered with statuses, the server and another client unaffected`, {
    timeout: 120_000,
  }, async () => {
    const watcher = await s.open('wanda', 'viewer');
    const seen = await watchPose(watcher);
    await vi.waitFor(() => expect(seen()).toBeGreaterThan(5), { timeout: 10_000 });

    const abuser = await s.open('mallory', 'operator');
    await abuser.serverInfo;
    const advertised = abuser.client.advertise({
      topic: '/cmd_vel',
      encoding: 'json',
      schemaName: 'geometry_msgs/msg/Twist',
    });
    const rnd = random(19);
    for (let i = 0; i < FRAMES; i++) {
      const f = malformed(i, rnd, advertised);
      abuser.ws.send(f.data, { binary: f.binary });
      // Let the socket drain now and then (a client's own send buffer, not the server's pace).
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    // Still served afterwards: a valid subscription on the same connection gets data. The flood's
    // well-formed requests (subscriptions to unknown channels) spent its request rate, so the first
    // tries may be refused as rate-limited; a client tries again, as this one does each second.
    let posesSeen = await watchPose(abuser);
    await vi.waitFor(
      async () => {
        if (posesSeen() === 0) posesSeen = await watchPose(abuser);
        expect(posesSeen()).toBeGreaterThan(3);
      },
      { timeout: 60_000, interval: 1_000 },
    );
    expect(abuser.statuses.length).toBeGreaterThan(0);
    expect(abuser.statuses.every((st) => st.level === 2)).toBe(true);
    expect(abuser.statuses.some((st) => /^\[E_BAD_REQUEST\] /.test(st.message))).toBe(true);
    // The other client kept receiving, and a new one gets in.
    const before = seen();
    await vi.waitFor(() => expect(seen()).toBeGreaterThan(before + 5), { timeout: 10_000 });
    expect(watcher.statuses).toEqual([]);
    const late = await s.open('lena', 'viewer');
    expect((await late.serverInfo).name).toBe('telekit');
    for (const c of [watcher, abuser, late]) c.client.close();
  });
});

describe('malformed frames with the default refusal budget', () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    s = await start({});
  }, 60_000);
  afterAll(() => s?.stop());

  it('cuts the abuser off past the budget, keeps its principal out, and serves the others', {
    timeout: 60_000,
  }, async () => {
    const watcher = await s.open('wanda', 'viewer');
    const seen = await watchPose(watcher);
    const abuser = await s.open('mallory', 'operator');
    await abuser.serverInfo;
    for (let i = 0; i < 600; i++) abuser.ws.send('{"op":"nope"}');
    await abuser.closed;
    // Answered at first, then quiet (at most quietAfter a second), then cut off.
    expect(abuser.statuses.length).toBeGreaterThan(0);
    expect(abuser.statuses.length).toBeLessThan(600);
    const again = await s.open('mallory', 'operator');
    await again.closed;
    expect(await Promise.race([again.serverInfo.then(() => 'in'), Promise.resolve('out')])).toBe('out');
    const before = seen();
    await vi.waitFor(() => expect(seen()).toBeGreaterThan(before + 5), { timeout: 10_000 });
    watcher.client.close();
  });
});
