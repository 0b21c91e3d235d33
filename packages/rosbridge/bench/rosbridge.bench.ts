/**
 * `pnpm bench rosbridge`: the rosbridge endpoint beside the socket.io lanes of the same gateway, each
 * figure next to its baseline in the same run.
 *
 * - `rosbridge.command`: a `/cmd_vel` from roslib 2.x, from its publish to the app's transport
 *   (through the endpoint, the gateway's pub handler and safety chain), against a Telekit page's
 *   `/controller/twist` over the socket.io control lane.
 * - `rosbridge.hol`: the same command on one rosbridge connection that also subscribes to about
 *   10 MB/s of telemetry (a `sensor_msgs/Image` of 640×480 mono8 at 30 Hz, ≈400 kB of JSON a message), against the
 *   idle connection. The client reads everything (a raw socket that counts bytes, so the figure is
 *   the endpoint's, not a JSON parser's in the same process).
 * - `rosbridge.fanout`: telemetry delivered to 50 clients, messages a second in all, roslib 2.x
 *   against Telekit's socket.io client.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineTopic, inProcessTransport, silentLogger, Topics, type Transport } from '@telekit/core';
import { message } from '@telekit/core/schemas';
import { createGateway, type Gateway } from '@telekit/gateway';
import { gatewayClient } from '@telekit/gateway/client';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { defaultMappings, fromRos } from '@telekit/transport-ros';
import { Ros, Topic } from 'roslib';
import * as z from 'zod';
import { attachRosbridge } from '../src/index.js';

/** A camera as telemetry (what a rosbridge UI subscribes to as sensor_msgs/Image): the heavy topic. */
const Camera = defineTopic({
  name: '/telemetry/camera',
  lane: 'telemetry',
  schema: message({ width: z.number().int(), height: z.number().int(), data: z.string() }),
  depth: 1,
  description: 'A raw mono8 image, base64.',
});
type CameraMsg = z.infer<typeof Camera.schema>;
const cameraLine = fromRos<CameraMsg, object>({
  topic: Camera,
  ros: '/camera/image_raw',
  type: 'sensor_msgs/msg/Image',
  fromRos: () => {
    throw new Error('not from ROS here');
  },
  toRos: (m) => ({
    header: { stamp: { sec: Math.floor(m.header.stamp / 1000), nanosec: 0 }, frame_id: 'camera' },
    height: m.height,
    width: m.width,
    encoding: 'mono8',
    is_bigendian: 0,
    step: m.width,
    data: m.data,
  }),
});

const ITERATIONS = 2_000;
const HOL_COMMANDS = 800;
const FANOUT_CLIENTS = 50;
const FANOUT_MS = 3_000;

async function rig(): Promise<{
  app: Transport;
  gateway: Gateway;
  url: string;
  ros: string;
  close(): Promise<void>;
}> {
  const app = inProcessTransport();
  await app.connect();
  const gateway = await createGateway({
    transport: app,
    topics: [Camera],
    auth: 'none',
    logger: silentLogger,
    // Commands as fast as the loop goes: the rate limit is not what is measured.
    limits: { commands: { rate: 1e6, burst: 1e6 }, requests: { rate: 1e6, burst: 1e6 } },
    deadmanMs: 60_000,
  });
  const url = await gateway.listen();
  const endpoint = attachRosbridge(gateway, {
    logger: silentLogger,
    mappings: [...defaultMappings(), cameraLine],
  });
  return {
    app,
    gateway,
    url,
    ros: `${url.replace('http', 'ws')}/rosbridge`,
    async close() {
      endpoint.close();
      await gateway.close();
      await app.close();
    },
  };
}

async function connectRos(url: string): Promise<Ros> {
  const ros = new Ros({});
  const open = new Promise<void>((resolve, reject) => {
    ros.once('connection', () => resolve());
    ros.once('error', reject);
  });
  await ros.connect(url);
  await open;
  return ros;
}

/** Waits for each command at the app: resolves the one in flight. */
function arrivals(app: Transport) {
  let arrived: (() => void) | undefined;
  const sub = app.subscribe(Topics.twist, { depth: 1 }).subscribe(() => arrived?.());
  return {
    next: (send: () => void) =>
      new Promise<void>((resolve) => {
        arrived = resolve;
        send();
      }),
    stop: () => sub.unsubscribe(),
  };
}

async function socketIoCommand(): Promise<BenchMeasurement> {
  const r = await rig();
  const page = gatewayClient({ url: r.url });
  try {
    await page.connect();
    await page.requestControl();
    const a = arrivals(r.app);
    let seq = 0;
    const samples = await measureLatency(
      () =>
        a.next(() =>
          page.publish(Topics.twist, {
            header: { seq: seq++, stamp: Date.now(), sender: 'bench' },
            linear: { x: 0.5, y: 0, z: 0 },
            angular: { x: 0, y: 0, z: 0.1 },
          }),
        ),
      { iterations: ITERATIONS },
    );
    a.stop();
    return { samples };
  } finally {
    await page.close();
    await r.close();
  }
}

async function roslibCommand(): Promise<BenchMeasurement> {
  const r = await rig();
  const ros = await connectRos(r.ros);
  try {
    const cmdVel = new Topic({ ros, name: '/cmd_vel', messageType: 'geometry_msgs/msg/Twist' });
    const a = arrivals(r.app);
    const samples = await measureLatency(
      () => a.next(() => cmdVel.publish({ linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } })),
      { iterations: ITERATIONS },
    );
    a.stop();
    return { samples };
  } finally {
    ros.close();
    await r.close();
  }
}

/** A 640×480 mono8 frame (300 kB, 400 kB as base64 JSON), 30 a second: ≈12 MB/s on the wire. */
const image = (seq: number): CameraMsg => ({
  header: { seq, stamp: Date.now(), sender: 'camera' },
  width: 640,
  height: 480,
  data: Buffer.alloc(640 * 480, seq & 0xff).toString('base64'),
});

/** Asks the client process something and waits for its answer of `type`. */
function ask(child: ChildProcess, type: string, message?: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === 'error') reject(new Error(m.message));
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as unknown as Record<string, number>);
    };
    child.on('message', onMessage);
    if (message) child.send(message);
  });
}

/**
 * Commands on one rosbridge connection (a client in another process, told by IPC when to send),
 * with or without ≈12 MB/s of images subscribed on it.
 */
async function rawCommand(loaded: boolean): Promise<BenchMeasurement> {
  const r = await rig();
  const child = fork(fileURLToPath(new URL('./hol-client.mjs', import.meta.url)), [r.ros], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await ask(child, 'open');
    if (loaded) {
      child.send({
        type: 'send',
        frame: JSON.stringify({ op: 'subscribe', id: 'cam', topic: '/camera/image_raw', queue_length: 1 }),
      });
      let seq = 0;
      const frames = Array.from({ length: 4 }, (_, i) => image(i));
      timer = setInterval(() => {
        const m = frames[seq % frames.length]!;
        // A new object each time, as a camera driver makes: encoded once per sample.
        r.app.publish(Camera, { ...m, header: { ...m.header, seq: seq++, stamp: Date.now() } });
      }, 1000 / 30);
      // Until images flow.
      while ((await ask(child, 'stats', { type: 'stats' })).messages === 0)
        await new Promise((res) => setTimeout(res, 10));
    }
    const a = arrivals(r.app);
    const frame = JSON.stringify({
      op: 'publish',
      topic: '/cmd_vel',
      msg: { linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } },
    });
    const before: Record<string, number> = {
      ...(await ask(child, 'stats', { type: 'stats' })),
      t: performance.now(),
    };
    // At a teleop pace (200 Hz for 4 s), so the commands meet many frames on their way.
    const samples: number[] = [];
    for (let i = 0; i < HOL_COMMANDS; i++) {
      const t = performance.now();
      await a.next(() => child.send({ type: 'send', frame }));
      samples.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 5));
    }
    const seconds = (performance.now() - (before.t ?? 0)) / 1000;
    const after = await ask(child, 'stats', { type: 'stats' });
    a.stop();
    return {
      samples,
      extra: {
        'telemetry MB/s read': Number(
          (((after.bytes ?? 0) - (before.bytes ?? 0)) / seconds / 1e6).toFixed(2),
        ),
        'images read': (after.messages ?? 0) - (before.messages ?? 0),
        seconds: Number(seconds.toFixed(1)),
      },
    };
  } finally {
    clearInterval(timer);
    child.send({ type: 'quit' });
    await r.close();
  }
}

const pose = (seq: number) => ({
  header: { seq, stamp: Date.now(), sender: 'robot' },
  frame: 'odom',
  position: { x: seq / 1000, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0.1 },
});

/** Publishes poses as fast as the loop allows for `FANOUT_MS`, counting what `count()` says arrived. */
async function fanOut(app: Transport, count: () => number, ready: () => boolean): Promise<BenchMeasurement> {
  let seq = 0;
  // Until every client gets telemetry.
  while (!ready()) {
    app.publish(Topics.pose, pose(seq++));
    await new Promise((res) => setTimeout(res, 5));
  }
  const start = count();
  const t0 = performance.now();
  let published = 0;
  while (performance.now() - t0 < FANOUT_MS) {
    for (let i = 0; i < 10; i++) app.publish(Topics.pose, pose(seq++));
    published += 10;
    await new Promise((res) => setImmediate(res));
  }
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((res) => setTimeout(res, 100));
  return {
    rate: (count() - start) / seconds,
    extra: { clients: FANOUT_CLIENTS, 'published/s': Math.round(published / seconds) },
  };
}

async function socketIoFanOut(): Promise<BenchMeasurement> {
  const r = await rig();
  const clients = Array.from({ length: FANOUT_CLIENTS }, () => gatewayClient({ url: r.url }));
  const got = new Array<number>(FANOUT_CLIENTS).fill(0);
  try {
    await Promise.all(clients.map((c) => c.connect()));
    for (const [i, c] of clients.entries()) c.subscribe(Topics.pose).subscribe(() => got[i]!++);
    return await fanOut(
      r.app,
      () => got.reduce((a, b) => a + b, 0),
      () => got.every((n) => n > 0),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await r.close();
  }
}

async function roslibFanOut(): Promise<BenchMeasurement> {
  const r = await rig();
  const clients = await Promise.all(Array.from({ length: FANOUT_CLIENTS }, () => connectRos(r.ros)));
  const got = new Array<number>(FANOUT_CLIENTS).fill(0);
  try {
    for (const [i, ros] of clients.entries())
      new Topic({ ros, name: '/odom', messageType: 'nav_msgs/msg/Odometry' }).subscribe(() => got[i]!++);
    return await fanOut(
      r.app,
      () => got.reduce((a, b) => a + b, 0),
      () => got.every((n) => n > 0),
    );
  } finally {
    for (const ros of clients) ros.close();
    await r.close();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'rosbridge.command',
    title:
      'A command into the gateway, publish to the app transport: roslib 2.x through /rosbridge vs the socket.io control lane',
    kind: 'latency',
    baseline: { name: 'socket.io control lane (Telekit client)', run: socketIoCommand },
    candidates: [{ name: 'rosbridge endpoint (roslib 2.1, /cmd_vel)', run: roslibCommand }],
  },
  {
    id: 'rosbridge.hol',
    title:
      'A command on one rosbridge connection, idle vs while ≈12 MB/s of camera images is subscribed on it',
    kind: 'latency',
    baseline: { name: 'idle connection', run: () => rawCommand(false) },
    candidates: [{ name: 'same connection, ≈12 MB/s of images subscribed', run: () => rawCommand(true) }],
  },
  {
    id: 'rosbridge.fanout',
    title: `Telemetry fan-out to ${FANOUT_CLIENTS} clients, messages/s delivered in all`,
    kind: 'throughput',
    baseline: { name: `socket.io telemetry lane (${FANOUT_CLIENTS} Telekit clients)`, run: socketIoFanOut },
    candidates: [
      { name: `rosbridge endpoint (${FANOUT_CLIENTS} roslib 2.1 clients, /odom)`, run: roslibFanOut },
    ],
  },
];
