import { readFileSync } from 'node:fs';
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
import { gatewayClient } from '@telekit/gateway/client';
import { AccessUnitTapToken, nvencMedia } from '@telekit/media-nvenc';
import { bundledScenes, genesisSim } from '@telekit/sim-genesis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FoxgloveHealthData, foxglove, VideoAccessUnitsToken } from '../src/index.js';
import {
  descendantNames,
  foxgloveClient,
  type Heard,
  probeH264,
  upgradeStatus,
  validatorOf,
} from './foxglove-kit.js';

// Foxglove's own client against the real parts: the gateway, the MuJoCo sidecar (its camera), ffmpeg
// and mediasoup, the access-unit tap, and this endpoint.
const SECRET = 'foxglove-test-secret-of-at-least-32-bytes';
let app: ReturnType<typeof createApp>;
let running: Gateway;
let transport: Transport;
let base = '';
const grab: Plugin = {
  name: 'grab-gateway',
  requires: [GatewayToken, TransportToken],
  setup(ctx) {
    running = ctx.resolve(GatewayToken);
    transport = ctx.resolve(TransportToken);
  },
};
const token = (sub: string, role: 'viewer' | 'operator' | 'admin') =>
  signToken({ sub, role }, { secret: SECRET, expiresIn: '1h' });
const clients: Heard[] = [];
const open = async (
  role: 'viewer' | 'operator' | 'admin',
  subprotocol = 'foxglove.sdk.v1',
  sub: string = role,
) => {
  const c = foxgloveClient(`${base}/foxglove?token=${await token(sub, role)}`, subprotocol);
  clients.push(c);
  return c;
};
const channel = async (c: Heard, topic: string) => {
  const ch = (await c.channels).find((x) => x.topic === topic);
  if (!ch) throw new Error(`no channel ${topic}`);
  return ch;
};
const health = async () =>
  (await app.health()).plugins['@telekit/foxglove']?.data as unknown as FoxgloveHealthData;

beforeAll(async () => {
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      genesisSim({
        scene: { id: 'diff-drive' },
        camera: { camera: 'overview', width: 320, height: 240, fps: 30 },
      }),
      nvencMedia({ lingerMs: 300, streams: [{ id: 'sim-camera', source: 'sim-camera', hls: false }] }),
      gateway({ auth: jwtVerifier({ secret: SECRET }), port: 0 }),
      foxglove({ scene: { path: bundledScenes['diff-drive'] } }),
      grab,
    ],
  });
  await app.start();
  base = running.url.replace(/^http/, 'ws');
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.client.close();
  await app?.stop();
});

describe('the Foxglove endpoint with @foxglove/ws-protocol', () => {
  it('names the media tap by the same token', () => {
    expect(VideoAccessUnitsToken).toBe(AccessUnitTapToken);
  });

  for (const subprotocol of ['foxglove.sdk.v1', 'foxglove.websocket.v1']) {
    it(`${subprotocol}: serverInfo, every channel with its JSON Schema, messages that fit it`, {
      timeout: 30_000,
    }, async () => {
      const c = await open('viewer', subprotocol);
      const info = await c.serverInfo;
      expect(c.ws.protocol).toBe(subprotocol);
      expect(info).toMatchObject({ op: 'serverInfo', name: 'telekit', supportedEncodings: ['json'] });
      expect(info.capabilities).toEqual(['clientPublish', 'time']);
      const channels = await c.channels;
      const topics = channels.map((ch) => ch.topic);
      for (const t of [
        '/telemetry/pose',
        '/telemetry/joint_state',
        '/telemetry/sim_state',
        '/tf',
        '/pose',
        '/scene',
        '/joint_states',
        '/video/sim-camera',
      ])
        expect(topics).toContain(t);
      for (const ch of channels) {
        expect(ch).toMatchObject({ encoding: 'json', schemaEncoding: 'jsonschema' });
        expect(() => validatorOf(ch.schema)).not.toThrow();
      }
      expect((await channel(c, '/tf')).schemaName).toBe('foxglove.FrameTransform');
      expect((await channel(c, '/video/sim-camera')).schemaName).toBe('foxglove.CompressedVideo');
      // Core's published schema, as docs/protocol has it.
      expect(JSON.parse((await channel(c, '/telemetry/pose')).schema).$id).toMatch(
        /telemetry\.pose\.schema\.json$/,
      );
      // Subscribed, its messages decode and fit the schema it advertised.
      const pose = await channel(c, '/telemetry/pose');
      const id = c.client.subscribe(pose.id);
      await vi.waitFor(() => expect(c.messages.get(id)?.length ?? 0).toBeGreaterThan(2), { timeout: 20_000 });
      const check = validatorOf(pose.schema);
      for (const m of c.messages.get(id)!) expect(check(m.json)).toBeUndefined();
      c.client.close();
    });
  }

  it('subscribes on demand: messages decode and fit the advertised schemas; simulated time ticks', {
    timeout: 60_000,
  }, async () => {
    const c = await open('viewer');
    const wanted = ['/telemetry/pose', '/tf', '/pose', '/scene', '/joint_states', '/telemetry/sim_state'];
    // Nobody subscribed (the earlier clients' sockets close as this test starts): nothing runs.
    await vi.waitFor(async () => expect((await health()).open).toEqual([]), { timeout: 10_000 });
    const subs = new Map<string, number>();
    for (const t of wanted) subs.set(t, c.client.subscribe((await channel(c, t)).id));
    // The diff-drive scene has no joints: joint states come as a robot's driver would send them.
    let seq = 0;
    const joints = setInterval(
      () =>
        transport.publish(Topics.jointState, {
          header: { seq: seq++, stamp: Date.now(), sender: 'arm' },
          name: ['shoulder', 'elbow'],
          position: [0.1, seq / 100],
          velocity: [0, 1],
        }),
      50,
    );
    await vi.waitFor(
      () => {
        for (const [t, id] of subs) expect(c.messages.get(id)?.length ?? 0, t).toBeGreaterThan(3);
      },
      { timeout: 30_000, interval: 100 },
    );
    clearInterval(joints);
    expect((await health()).open.sort()).toEqual([...wanted].sort());
    for (const [t, id] of subs) {
      const check = validatorOf((await channel(c, t)).schema);
      for (const m of c.messages.get(id)!.slice(0, 5)) expect(check(m.json), t).toBeUndefined();
    }
    const tf = c.messages.get(subs.get('/tf')!)![0]!.json as {
      parent_frame_id: string;
      child_frame_id: string;
    };
    expect(tf.child_frame_id).toBe('base_link');
    // The scene's shapes where its bodies are: the chassis a 0.4 × 0.3 × 0.1 m box.
    const scene = c.messages.get(subs.get('/scene')!)!.at(-1)!.json as {
      entities: { id: string; cubes: { size: unknown }[]; cylinders: unknown[] }[];
    };
    expect(scene.entities.find((e) => e.id === 'base')?.cubes[0]?.size).toEqual({ x: 0.4, y: 0.3, z: 0.1 });
    expect(scene.entities.find((e) => e.id === 'left_wheel')?.cylinders).toHaveLength(1);
    const js = c.messages.get(subs.get('/joint_states')!)![0]!.json as { joints: { name: string }[] };
    expect(js.joints.map((j) => j.name)).toEqual(['shoulder', 'elbow']);
    // Simulated time: server time frames, and message stamps on the same clock.
    await vi.waitFor(() => expect(c.times.length).toBeGreaterThan(2), { timeout: 10_000 });
    for (let i = 1; i < c.times.length; i++) expect(c.times[i]! >= c.times[i - 1]!).toBe(true);
    // Simulated time, not the epoch: the scene started moments ago.
    const stamps = c.messages.get(subs.get('/tf')!)!.map((m) => m.timestamp);
    expect(stamps.every((t) => t < 3_600n * 1_000_000_000n)).toBe(true);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! >= stamps[i - 1]!).toBe(true);
    for (const id of subs.values()) c.client.unsubscribe(id);
    await vi.waitFor(async () => expect((await health()).open).toEqual([]), { timeout: 10_000 });
    c.client.close();
  });

  it('video: CompressedVideo access units from the one encoder that decode with ffmpeg to the stream size', {
    timeout: 90_000,
  }, async () => {
    const c = await open('viewer');
    const id = c.client.subscribe((await channel(c, '/video/sim-camera')).id);
    await vi.waitFor(() => expect(c.messages.get(id)?.length ?? 0).toBeGreaterThanOrEqual(30), {
      timeout: 60_000,
      interval: 100,
    });
    expect(descendantNames().filter((n) => n === 'ffmpeg')).toHaveLength(1);
    const frames = c.messages
      .get(id)!
      .slice(0, 30)
      .map((m) => m.json as { format: string; data: string; frame_id: string });
    const check = validatorOf((await channel(c, '/video/sim-camera')).schema);
    for (const f of frames) {
      expect(check(f)).toBeUndefined();
      expect(f.format).toBe('h264');
    }
    const units = frames.map((f) => Buffer.from(f.data, 'base64'));
    // The first is a keyframe with its SPS: Annex B start code, NAL type 7.
    expect([...units[0]!.subarray(0, 5)]).toEqual([0, 0, 0, 1, 0x67]);
    expect(await probeH264(Buffer.concat(units))).toEqual({ width: 320, height: 240, frames: 30 });
    c.client.unsubscribe(id);
    c.client.close();
  });

  it("the demo's layout names only channels the endpoint advertises (and the Teleop panel's /cmd_vel alias)", async () => {
    const layout = JSON.parse(
      readFileSync(new URL('../layouts/teleop-sim.json', import.meta.url), 'utf8'),
    ) as {
      configById: Record<
        string,
        { paths?: { value: string }[]; imageMode?: { imageTopic: string }; topics?: object; topic?: string }
      >;
    };
    const c = await open('viewer');
    const advertised = new Set((await c.channels).map((ch) => ch.topic));
    const named: string[] = [];
    for (const panel of Object.values(layout.configById)) {
      for (const p of panel.paths ?? []) named.push(/^(\/[\w/-]+)/.exec(p.value)![1]!);
      if (panel.imageMode) named.push(panel.imageMode.imageTopic);
      named.push(...Object.keys(panel.topics ?? {}));
    }
    expect(named.length).toBeGreaterThan(5);
    for (const t of named) expect(advertised.has(t), t).toBe(true);
    expect(layout.configById['Teleop!telekit']?.topic).toBe('/cmd_vel');
    c.client.close();
  });

  it('refuses an upgrade without a token, with a bad one, or without a Foxglove subprotocol, before any data', async () => {
    expect((await upgradeStatus(`${base}/foxglove`, ['foxglove.sdk.v1'])).status).toBe(401);
    expect((await upgradeStatus(`${base}/foxglove?token=nope`, ['foxglove.websocket.v1'])).status).toBe(401);
    const good = await token('olga', 'operator');
    expect((await upgradeStatus(`${base}/foxglove?token=${good}`, ['chat'])).status).toBe(400);
    expect((await upgradeStatus(`${base}/foxglove?token=${good}`, ['foxglove.sdk.v1'])).status).toBe(101);
  });

  it("clientPublish: a viewer's Twist is refused by name and moves nothing; the operator's drives the robot, the e-stop stops it and everyone hears it, a dying socket stops it", {
    timeout: 60_000,
  }, async () => {
    const watcher = await open('viewer', 'foxglove.sdk.v1', 'watcher');
    const poses = watcher.client.subscribe((await channel(watcher, '/telemetry/pose')).id);
    const acted = watcher.client.subscribe((await channel(watcher, '/input_to_actuation')).id);
    const x = () => {
      const list = watcher.messages.get(poses) ?? [];
      return (list.at(-1)?.json as { position: { x: number; y: number } } | undefined)?.position;
    };
    await vi.waitFor(() => expect(x()).toBeDefined(), { timeout: 20_000 });
    const encoder = new TextEncoder();
    const drive = (c: Heard, ch: number, n: number) =>
      new Promise<void>((resolve) => {
        let i = 0;
        const timer = setInterval(() => {
          c.client.sendMessage(
            ch,
            encoder.encode(JSON.stringify({ linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } })),
          );
          if (++i >= n || c.ws.readyState !== c.ws.OPEN) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
      });

    const viewer = await open('viewer', 'foxglove.websocket.v1', 'vic');
    await viewer.serverInfo;
    const vch = viewer.client.advertise({
      topic: '/cmd_vel',
      encoding: 'json',
      schemaName: 'geometry_msgs/msg/Twist',
    });
    const before = x()!;
    await drive(viewer, vch, 20);
    await vi.waitFor(() =>
      expect(
        viewer.statuses.some((s) =>
          /E_FORBIDDEN.*viewer may not publish \/controller\/twist/.test(s.message),
        ),
      ).toBe(true),
    );
    expect(Math.hypot(x()!.x - before.x, x()!.y - before.y)).toBeLessThan(0.02);

    const operator = await open('operator', 'foxglove.sdk.v1', 'olga');
    await operator.serverInfo;
    const och = operator.client.advertise({
      topic: '/cmd_vel',
      encoding: 'json',
      schemaName: 'geometry_msgs/msg/Twist',
    });
    const start = x()!;
    await drive(operator, och, 30);
    await vi.waitFor(() => expect(Math.hypot(x()!.x - start.x, x()!.y - start.y)).toBeGreaterThan(0.1), {
      timeout: 20_000,
    });
    expect(operator.statuses.some((s) => /control granted/.test(s.message))).toBe(true);
    // Each command's input→actuation, plottable.
    await vi.waitFor(() => expect(watcher.messages.get(acted)?.length ?? 0).toBeGreaterThan(3));
    const checkActed = validatorOf((await channel(watcher, '/input_to_actuation')).schema);
    for (const m of watcher.messages.get(acted)!) expect(checkActed(m.json)).toBeUndefined();
    expect(watcher.messages.get(acted)!.some((m) => (m.json as { fate: string }).fate === 'applied')).toBe(
      true,
    );

    // A second operator is told who holds control.
    const other = await open('operator', 'foxglove.sdk.v1', 'otto');
    await other.serverInfo;
    const xch = other.client.advertise({
      topic: '/cmd_vel',
      encoding: 'json',
      schemaName: 'geometry_msgs/msg/Twist',
    });
    await drive(other, xch, 2);
    await vi.waitFor(() =>
      expect(other.statuses.some((s) => /E_NOT_HOLDER.*olga holds control/.test(s.message))).toBe(true),
    );
    // An admin on the page takes control over: the Foxglove driver is told it lost control, and to whom.
    const page = gatewayClient({ url: running.url, token: await token('ada', 'admin') });
    await page.connect();
    expect(await page.requestControl({ takeover: true })).toMatchObject({ granted: true });
    await vi.waitFor(() =>
      expect(operator.statuses.some((s) => s.message === 'control lost: ada holds control now')).toBe(true),
    );
    await page.releaseControl();
    await page.close();

    // The e-stop, engaged from Foxglove: every Foxglove client hears it; commands are refused by name.
    const estop = operator.client.advertise({
      topic: '/controller/estop',
      encoding: 'json',
      schemaName: 'EStop',
    });
    operator.client.sendMessage(estop, encoder.encode(JSON.stringify({ engage: true, reason: 'drill' })));
    await vi.waitFor(() =>
      expect(watcher.statuses.some((s) => s.message === 'e-stop engaged by olga: drill')).toBe(true),
    );
    await drive(operator, och, 2);
    await vi.waitFor(() => expect(operator.statuses.some((s) => /^\[E_ESTOP\]/.test(s.message))).toBe(true));
    operator.client.sendMessage(estop, encoder.encode(JSON.stringify({ engage: false })));
    await vi.waitFor(() =>
      expect(watcher.statuses.some((s) => s.message === 'e-stop cleared by olga')).toBe(true),
    );

    // The driver's socket dies mid-drive: its lease goes with it and the robot stops.
    const speed = () => {
      const list = watcher.messages.get(poses) ?? [];
      return Math.abs((list.at(-1)?.json as { linear?: { x: number } } | undefined)?.linear?.x ?? 0);
    };
    const driving = drive(operator, och, 1_000_000);
    await vi.waitFor(() => expect(speed()).toBeGreaterThan(0.2), { timeout: 20_000 });
    operator.ws.terminate();
    await driving;
    await vi.waitFor(() => expect(speed()).toBeLessThan(0.01), { timeout: 20_000, interval: 50 });
  });
});
