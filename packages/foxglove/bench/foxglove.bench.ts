/**
 * `pnpm bench foxglove`: the Foxglove endpoint beside the socket.io telemetry lane, in the same run
 * on the same gateway — 20 clients of each subscribed to `/telemetry/pose`:
 *
 * - latency: one pose published on the app's transport until all 20 clients have it (decoded);
 * - throughput: poses published as fast as the app can for 3 s, messages delivered per second to
 *   the 20 clients together (both lanes keep only the latest when a client falls behind);
 * - video: a test-pattern stream held by one in-process holder (as a WebRTC viewer holds it),
 *   then watched by 5 Foxglove clients too: access units per second each gets, how long a joining
 *   client waits for its first (a keyframe), and how many ffmpeg processes run (one: no second encode).
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  createApp,
  inProcess,
  type Plugin,
  silentLogger,
  Topics,
  type Transport,
  TransportToken,
} from '@telekit/core';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { gatewayClient } from '@telekit/gateway/client';
import { AccessUnitTapToken, MediaDemandToken, nvencMedia } from '@telekit/media-nvenc';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { WebSocket } from 'ws';
import { foxglove } from '../src/index.js';

const CLIENTS = 20;

interface Rig {
  transport: Transport;
  url: string;
  stop(): Promise<void>;
}

async function rig(
  extra: Plugin[] = [],
): Promise<Rig & { resolve<T>(t: import('@telekit/core').Token<T>): T }> {
  let gw: Gateway | undefined;
  let transport: Transport | undefined;
  let grabbed: import('@telekit/core').PluginContext | undefined;
  const grab: Plugin = {
    name: 'grab',
    requires: [GatewayToken, TransportToken],
    optional: [AccessUnitTapToken, MediaDemandToken],
    setup(ctx) {
      gw = ctx.resolve(GatewayToken);
      transport = ctx.resolve(TransportToken);
      grabbed = ctx;
    },
  };
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      ...extra,
      gateway({
        auth: 'none',
        port: 0,
        limits: { connectionsPerAddress: 1024, unauthenticatedPerAddress: 256, preHeaderPerAddress: 256 },
      }),
      foxglove({ time: 'wall' }),
      grab,
    ],
  });
  await app.start();
  return {
    transport: transport!,
    url: gw!.url,
    resolve: (t) => grabbed!.resolve(t),
    stop: () => app.stop(),
  };
}

let seq = 0;
const pose = () => ({
  header: { seq: seq++, stamp: Date.now(), sender: 'robot' },
  frame: 'world',
  position: { x: seq / 1000, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
});

/** N clients of one kind, each calling `got(seq)` for every pose it decodes. */
interface Crowd {
  close(): Promise<void>;
}

async function socketIoCrowd(url: string, got: (seq: number) => void): Promise<Crowd> {
  const clients = Array.from({ length: CLIENTS }, () => gatewayClient({ url }));
  await Promise.all(clients.map((c) => c.connect()));
  for (const c of clients) c.subscribe(Topics.pose).subscribe((m) => got(m.header.seq));
  return { close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
}

/** A raw Foxglove client (the spec's frames, as @foxglove/ws-protocol's client reads them). */
function foxgloveSocket(url: string, topic: string, onData: (payload: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/foxglove`, ['foxglove.sdk.v1']);
    ws.on('message', (data: Buffer, binary) => {
      if (binary) {
        if (data[0] === 1) onData(data.subarray(13));
        return;
      }
      const m = JSON.parse(data.toString()) as { op: string; channels?: { id: number; topic: string }[] };
      if (m.op !== 'advertise') return;
      const ch = m.channels!.find((c) => c.topic === topic)!;
      ws.send(JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 1, channelId: ch.id }] }));
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

async function foxgloveCrowd(url: string, got: (seq: number) => void): Promise<Crowd> {
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      foxgloveSocket(url, '/telemetry/pose', (p) =>
        got((JSON.parse(p.toString()) as { header: { seq: number } }).header.seq),
      ),
    ),
  );
  return {
    close: async () => {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((r) => {
              ws.once('close', () => r());
              ws.close();
            }),
        ),
      );
    },
  };
}

type MakeCrowd = (url: string, got: (seq: number) => void) => Promise<Crowd>;

/** Publishes until every client has had a pose (their subscriptions are in place). */
async function warm(r: Rig, counts: Map<number, number>) {
  for (let i = 0; i < 500; i++) {
    const p = pose();
    r.transport.publish(Topics.pose, p);
    await new Promise((res) => setTimeout(res, 10));
    if ((counts.get(p.header.seq) ?? 0) >= CLIENTS) return;
  }
  throw new Error('clients never got a pose');
}

async function latency(make: MakeCrowd): Promise<BenchMeasurement> {
  const r = await rig();
  const counts = new Map<number, number>();
  let waiting: { seq: number; done: () => void } | undefined;
  const crowd = await make(r.url, (s) => {
    const n = (counts.get(s) ?? 0) + 1;
    counts.set(s, n);
    if (waiting && s === waiting.seq && n === CLIENTS) waiting.done();
  });
  try {
    await warm(r, counts);
    const samples = await measureLatency(
      () =>
        new Promise<void>((done) => {
          const p = pose();
          waiting = { seq: p.header.seq, done };
          r.transport.publish(Topics.pose, p);
        }),
      { iterations: 500 },
    );
    return { samples, extra: { clients: CLIENTS } };
  } finally {
    await crowd.close();
    await r.stop();
  }
}

async function throughput(make: MakeCrowd): Promise<BenchMeasurement> {
  const r = await rig();
  const counts = new Map<number, number>();
  let delivered = 0;
  const crowd = await make(r.url, (s) => {
    counts.set(s, (counts.get(s) ?? 0) + 1);
    delivered++;
  });
  try {
    await warm(r, counts);
    delivered = 0;
    const first = seq;
    const t0 = performance.now();
    while (performance.now() - t0 < 3_000) {
      // Bursts of 10, below the transport's keep-last depth (16): the lanes, not the app's transport, drop.
      for (let i = 0; i < 10; i++) r.transport.publish(Topics.pose, pose());
      await new Promise((res) => setImmediate(res));
    }
    const published = seq - first;
    // Let what is in flight arrive: until nothing more comes for 200 ms.
    let last = -1;
    while (last !== delivered) {
      last = delivered;
      await new Promise((res) => setTimeout(res, 200));
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      rate: delivered / seconds,
      extra: {
        published,
        delivered,
        perClient: Math.round(delivered / CLIENTS),
        keptOfPublished: `${((100 * delivered) / (published * CLIENTS)).toFixed(1)} %`,
      },
    };
  } finally {
    await crowd.close();
    await r.stop();
  }
}

/** Live descendants of this process named `comm`, from /proc. */
function processes(comm: string): number {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = t.lastIndexOf(')');
      const [state, ppid] = t.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      parent.set(pid, Number(ppid));
      names.set(pid, t.slice(t.indexOf('(') + 1, close));
    } catch {
      // gone
    }
  }
  let n = 0;
  for (const [pid, name] of names) {
    if (name !== comm) continue;
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) {
        n++;
        break;
      }
  }
  return n;
}

const VIDEO = [nvencMedia({ lingerMs: 500, streams: [{ id: 'cam', hls: false, profile: '480p30' }] })];

async function videoHeld(): Promise<BenchMeasurement> {
  const r = await rig(VIDEO);
  const release = r.resolve(MediaDemandToken).acquire('cam', 'viewer');
  let units = 0;
  const sub = r
    .resolve(AccessUnitTapToken)
    .accessUnits$('cam', 'bench')
    .subscribe(() => units++);
  try {
    while (units < 30) await new Promise((res) => setTimeout(res, 50));
    const u0 = units;
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, 3_000));
    return { rate: (units - u0) / ((performance.now() - t0) / 1000), extra: { ffmpeg: processes('ffmpeg') } };
  } finally {
    sub.unsubscribe();
    release();
    await r.stop();
  }
}

async function videoFoxglove(): Promise<BenchMeasurement> {
  const r = await rig(VIDEO);
  const release = r.resolve(MediaDemandToken).acquire('cam', 'viewer');
  const sockets: WebSocket[] = [];
  const waits: number[] = [];
  const counts: number[] = [];
  try {
    // Clients join one by one, at arbitrary points of the GOP.
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      let first = true;
      counts.push(0);
      sockets.push(
        await foxgloveSocket(r.url, '/video/cam', () => {
          counts[i]!++;
          if (first) {
            first = false;
            waits.push(performance.now() - t0);
          }
        }),
      );
      await new Promise((res) => setTimeout(res, 337));
    }
    while (waits.length < 5) await new Promise((res) => setTimeout(res, 50));
    const c0 = counts.reduce((a, b) => a + b, 0);
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, 3_000));
    const per = (counts.reduce((a, b) => a + b, 0) - c0) / 5 / ((performance.now() - t0) / 1000);
    const sorted = [...waits].sort((a, b) => a - b);
    return {
      rate: per,
      extra: {
        ffmpeg: processes('ffmpeg'),
        clients: 5,
        firstUnitMs: sorted.map((w) => Math.round(w)).join('/'),
      },
    };
  } finally {
    for (const ws of sockets) ws.close();
    release();
    await r.stop();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'foxglove.telemetry-latency',
    title: `A pose to ${CLIENTS} clients: published on the app's transport until every client decoded it`,
    kind: 'latency',
    baseline: {
      name: `socket.io telemetry lane, ${CLIENTS} gateway clients`,
      run: () => latency(socketIoCrowd),
    },
    candidates: [
      {
        name: `Foxglove endpoint, ${CLIENTS} clients (foxglove.sdk.v1, JSON)`,
        run: () => latency(foxgloveCrowd),
      },
    ],
  },
  {
    id: 'foxglove.telemetry-throughput',
    title: `Poses published flat out for 3 s: messages delivered per second to ${CLIENTS} clients together`,
    kind: 'throughput',
    baseline: {
      name: `socket.io telemetry lane, ${CLIENTS} gateway clients`,
      run: () => throughput(socketIoCrowd),
    },
    candidates: [{ name: `Foxglove endpoint, ${CLIENTS} clients`, run: () => throughput(foxgloveCrowd) }],
  },
  {
    id: 'foxglove.video',
    title: 'A 480p30 H.264 stream: access units per second per watcher, and encoders running',
    kind: 'throughput',
    baseline: { name: 'held in-process (as one WebRTC viewer holds it), read from the tap', run: videoHeld },
    candidates: [
      {
        name: 'plus 5 Foxglove clients on /video/cam, per client (firstUnitMs: the wait of each for its first unit)',
        run: videoFoxglove,
      },
    ],
  },
];
