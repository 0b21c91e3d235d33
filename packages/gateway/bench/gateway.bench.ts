/**
 * The gateway against a bare `ws` server with JSON (no validation, lanes, safety or auth), each
 * measured in the same run:
 *
 * - control round trip on loopback: a client sends a twist, the robot on the app's transport
 *   answers with an actuation report, the client receives it (goal: p50 within 1.5× raw ws);
 * - control round trip while 50 other clients receive 10 MB/s of telemetry, against the same with
 *   no telemetry (goal: p99 within 10 %);
 * - telemetry fan-out to 50 clients, messages delivered per second (goal: at least 0.5× raw ws);
 * - server heap per connected client, 100 clients.
 *
 * Clients that only receive run in a child process, so their decoding does not share the gateway's
 * event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  actuationReport,
  headerSequence,
  inProcessTransport,
  percentiles,
  silentLogger,
  Topics,
  type Transport,
  type Twist,
} from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import WebSocket from 'ws';
import { gatewayClient } from '../src/client/index.js';
import { unpackMessage } from '../src/codec.js';
import { createGateway } from '../src/index.js';
import { bareSocketIo, bareSocketIoServer } from './bare-socketio.js';
import { constrainedLink, constrainedLinkUnavailable } from './constrained-link.js';
import { rawWsServer } from './raw-ws.js';

const ROUND_TRIPS = 5_000;
// Every variant first runs long enough for the JIT to settle: a gateway runs for hours, and a
// cold first variant would otherwise pay for compiling code the others get for free.
const WARMUP = 3_000;
const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const twist = (seq: number): Twist => ({
  header: { seq, stamp: performance.timeOrigin + performance.now(), sender: 'bench' },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});

/** A trip without a reply after this long is counted lost and the next one starts (a reply lost under a stall). */
const TRIP_TIMEOUT_MS = 2_000;

/**
 * Times ROUND_TRIPS twists sent by `send`, each until `replied()` is called (with the seq it
 * answers, where replies to earlier twists may still arrive) or TRIP_TIMEOUT_MS passed (`lost`).
 */
function roundTrips(send: (t: Twist) => void) {
  let done: () => void = () => {};
  let seq = 0;
  let lost = 0;
  return {
    replied: (answered?: number) => {
      if (answered === undefined || answered === seq - 1) done();
    },
    /** Trips that timed out (each counted in the samples at TRIP_TIMEOUT_MS). */
    get lost() {
      return lost;
    },
    measure: () =>
      measureLatency(
        () =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              lost++;
              resolve();
            }, TRIP_TIMEOUT_MS);
            done = () => {
              clearTimeout(timer);
              resolve();
            };
            send(twist(seq++));
          }),
        { iterations: ROUND_TRIPS, warmup: WARMUP },
      ),
  };
}

/** The lost trips, for a measurement's extra lines (none when none were lost). */
const lostTrips = (trips: { lost: number }): Record<string, string> =>
  trips.lost ? { 'lost trips': `${trips.lost} (no reply in ${TRIP_TIMEOUT_MS} ms)` } : {};

/** ~2 KB diagnostics samples, the telemetry load of the benchmarks below. */
const LOAD_SAMPLE = {
  header: { seq: 0, stamp: 0, sender: 'robot' },
  status: [1, 2].map((i) => ({ name: `load ${i}`, level: 'ok' as const, message: 'x'.repeat(1_000) })),
};
const LOAD_BYTES = JSON.stringify(LOAD_SAMPLE).length;

/** Publishes `perTick` load samples on the app's transport every 10 ms; returns the stop. */
function telemetryLoad(app: Transport, perTick: number): () => void {
  if (perTick <= 0) return () => {};
  let seq = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++)
      app.publish(Topics.diagnostics, {
        ...LOAD_SAMPLE,
        header: { seq: seq++, stamp: Date.now(), sender: 'robot' },
      });
  }, 10);
  return () => clearInterval(timer);
}

/** A robot on the app's transport that reports every twist as actuated at once. */
function robot(app: Transport) {
  const now = () => performance.timeOrigin + performance.now();
  const next = headerSequence('robot', now);
  return app
    .subscribe(Topics.twist)
    .subscribe((t) => app.publish(Topics.actuation, actuationReport(Topics.twist, t.header, next(), now())));
}

async function startGateway(host?: string) {
  const app = inProcessTransport();
  const gateway = await createGateway({
    transport: app,
    auth: 'none',
    logger: silentLogger,
    deadmanMs: 60_000,
    rateLimit: { commands: { rate: 1e6, burst: 1e6 }, requests: { rate: 1e6, burst: 1e6 } },
  });
  const url = await gateway.listen(0, host);
  const r = robot(app);
  return {
    app,
    url,
    gateway,
    async close() {
      r.unsubscribe();
      await gateway.close();
      await app.close();
    },
  };
}

/** Starts N receiving clients in a child process. */
async function clientsProcess(mode: 'gateway' | 'ws' | 'socket.io', url: string, n: number, topic: string) {
  const child: ChildProcess = spawn(
    tsx,
    ['--conditions=source', `${here}clients.ts`, mode, url, String(n), topic],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiters.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  const ready = await next();
  if (ready !== 'ready') throw new Error(`clients process said ${ready}`);
  return {
    async count() {
      const answer = next();
      child.stdin!.write('count\n');
      return Number((await answer).split(' ')[1]);
    },
    async close() {
      child.stdin!.write('exit\n');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function gatewayRoundTrip(load?: {
  clients: number;
  bytesPerSecond: number;
  shared?: boolean;
}): Promise<BenchMeasurement> {
  const g = await startGateway();
  const operator = gatewayClient({
    url: g.url,
    sharedConnection: load?.shared ?? false,
  });
  await operator.connect();
  await operator.requestControl();
  const trips = roundTrips((t) => operator.publish(Topics.twist, t));
  operator.subscribe(Topics.actuation, { depth: 16 }).subscribe((a) => trips.replied(a.command.seq));
  let stopLoad = () => {};
  let receivers: Awaited<ReturnType<typeof clientsProcess>> | undefined;
  const extra: Record<string, string | number> = {};
  if (load && load.clients > 0) {
    // The operator's page shows the telemetry too.
    operator.subscribe(Topics.diagnostics, { depth: 16 }).subscribe();
    receivers = await clientsProcess('gateway', g.url, load.clients, Topics.diagnostics.name);
    if (load.bytesPerSecond > 0)
      stopLoad = telemetryLoad(
        g.app,
        Math.max(1, Math.round(load.bytesPerSecond / load.clients / LOAD_BYTES / 100)),
      );
    await new Promise((r) => setTimeout(r, 500));
    const c0 = await receivers.count();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1_000));
    const delivered = (await receivers.count()) - c0;
    extra['telemetry delivered'] =
      `${((delivered * LOAD_BYTES) / ((performance.now() - t0) / 1000) / 1e6).toFixed(1)} MB/s`;
  }
  const samples = await trips.measure();
  stopLoad();
  await receivers?.close();
  await operator.close();
  await g.close();
  return { samples, extra: { ...extra, ...lostTrips(trips) } };
}

async function rawRoundTrip(): Promise<BenchMeasurement> {
  const server = await rawWsServer((cmd, reply) => {
    const header = cmd.header as Twist['header'];
    reply({
      topic: Topics.actuation.name,
      command: { seq: header.seq, stamp: header.stamp },
      actuatedAt: performance.timeOrigin + performance.now(),
    });
  });
  const ws = new WebSocket(server.url);
  await new Promise((r) => ws.once('open', r));
  const trips = roundTrips((t) => ws.send(JSON.stringify({ topic: Topics.twist.name, ...t })));
  ws.on('message', (data) => {
    JSON.parse(String(data));
    trips.replied();
  });
  const samples = await trips.measure();
  ws.close();
  await server.close();
  return { samples, extra: lostTrips(trips) };
}

/**
 * Bare socket.io: the command answered at once (`app` absent), or handed to the same robot as the
 * gateway's on an in-process transport — validated there, as an app validates what enters it — and
 * its actuation report sent back: the floor with the app's own work in it.
 */
async function bareRoundTrip(withApp = false): Promise<BenchMeasurement> {
  const app = withApp ? inProcessTransport() : undefined;
  const r = app ? robot(app) : undefined;
  const bare = await bareSocketIo((cmd, reply) => {
    if (app) {
      app.publish(Topics.twist, cmd as never);
      return;
    }
    const header = cmd.header as Twist['header'];
    reply(Topics.actuation.name, {
      command: { seq: header.seq, stamp: header.stamp },
      actuatedAt: performance.timeOrigin + performance.now(),
    });
  });
  const sent = app
    ?.subscribe(Topics.actuation, { depth: 16 })
    .subscribe((a) => bare.reply(Topics.actuation.name, a));
  const trips = roundTrips((t) => bare.control.emit('pub', Topics.twist.name, t));
  bare.replies.on('b', (batch: [string, Uint8Array][]) => {
    unpackMessage(batch[0]![1]);
    trips.replied();
  });
  const samples = await trips.measure();
  sent?.unsubscribe();
  r?.unsubscribe();
  await app?.close();
  await bare.close();
  return { samples, extra: lostTrips(trips) };
}

const FANOUT_CLIENTS = 50;
const FANOUT_SECONDS = 2;

async function fanOut(
  publish: (m: unknown) => void,
  receivers: Awaited<ReturnType<typeof clientsProcess>>,
): Promise<BenchMeasurement> {
  const c0 = await receivers.count();
  const t0 = performance.now();
  let seq = 0;
  while (performance.now() - t0 < FANOUT_SECONDS * 1000) {
    for (let i = 0; i < 50; i++)
      publish({ ...exampleMessages.battery, header: { seq: seq++, stamp: Date.now(), sender: 'robot' } });
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 500));
  const delivered = (await receivers.count()) - c0;
  const seconds = (performance.now() - t0) / 1000;
  return {
    rate: delivered / seconds,
    extra: {
      published: seq,
      delivered,
      'delivered/published': (delivered / (seq * FANOUT_CLIENTS)).toFixed(2),
    },
  };
}

async function gatewayFanOut(): Promise<BenchMeasurement> {
  const g = await startGateway();
  const receivers = await clientsProcess('gateway', g.url, FANOUT_CLIENTS, Topics.battery.name);
  const r = await fanOut((m) => g.app.publish(Topics.battery, m as never), receivers);
  await receivers.close();
  await g.close();
  return r;
}

async function rawFanOut(): Promise<BenchMeasurement> {
  const server = await rawWsServer(() => {});
  const receivers = await clientsProcess('ws', server.url, FANOUT_CLIENTS, Topics.battery.name);
  const r = await fanOut((m) => server.broadcast(m), receivers);
  await receivers.close();
  await server.close();
  return r;
}

const LINK_RATE = '10mbit';
const LINK_PROBES = 200;

/**
 * An operator behind a 10 Mbit/s link (a network namespace, see constrained-link.ts) while the
 * gateway offers it `telemetry` bytes per second: the round trip of requests on the control lane,
 * and the gateway's input→actuation figures for that operator.
 */
async function constrainedRoundTrip(
  mode: 'separate' | 'shared',
  telemetry: number,
): Promise<BenchMeasurement> {
  const link = constrainedLink(LINK_RATE);
  const g = await startGateway(link.hostAddress);
  const stopLoad = telemetryLoad(g.app, Math.round(telemetry / 100 / LOAD_BYTES));
  try {
    const child = spawn(
      link.exec[0]!,
      [
        ...link.exec.slice(1),
        tsx,
        '--conditions=source',
        `${here}link-client.ts`,
        g.url,
        mode,
        String(LINK_PROBES),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`link client exited with ${code}`);
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
      samples: number[];
      health: { p50: number; p99: number } | null;
      telemetryBytesPerSecond: number;
      ages: number[];
    };
    const age = percentiles(result.ages);
    return {
      samples: result.samples,
      extra: {
        'input→actuation p50/p99': result.health
          ? `${result.health.p50.toFixed(1)}/${result.health.p99.toFixed(1)} ms`
          : '-',
        'telemetry received': `${(result.telemetryBytesPerSecond / 1e6).toFixed(2)} MB/s`,
        'telemetry age p50/p99': age ? `${age.p50.toFixed(0)}/${age.p99.toFixed(0)} ms` : '-',
      },
    };
  } finally {
    stopLoad();
    await g.close();
    link.close();
  }
}

const MEMORY_CLIENTS = 100;

async function heapPerClient(
  start: () => Promise<{ url: string; mode: 'gateway' | 'ws' | 'socket.io'; close(): Promise<void> }>,
): Promise<BenchMeasurement> {
  const server = await start();
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 500));
    gc();
    gc();
    return process.memoryUsage();
  };
  const clients = await clientsProcess(server.mode, server.url, MEMORY_CLIENTS, Topics.battery.name);
  const connected = await settle();
  await clients.close();
  const gone = await settle();
  await server.close();
  // What the server holds for its clients: the heap with them, less the heap once they have left.
  const perClient =
    (connected.heapUsed + connected.external - gone.heapUsed - gone.external) / MEMORY_CLIENTS;
  return { bytes: perClient, extra: { 'rss with clients': `${(connected.rss / 1e6).toFixed(0)} MB` } };
}

export const benchmarks: Benchmark[] = [
  {
    id: 'gateway.control-round-trip',
    title: `gateway: control round trip on loopback, twist → actuation report (${ROUND_TRIPS.toLocaleString('en-US')} trips; goal p50 ≤ 1.5× raw ws)`,
    kind: 'latency',
    baseline: { name: 'raw ws + JSON', run: rawRoundTrip },
    candidates: [
      { name: 'bare socket.io + msgpack, a connection per lane (the floor)', run: () => bareRoundTrip() },
      {
        name: 'same, the command through the same robot on an in-process transport (the floor with the app in it)',
        run: () => bareRoundTrip(true),
      },
      { name: 'gateway (socket.io + msgpack, validated, gated)', run: () => gatewayRoundTrip() },
      {
        name: 'same, both lanes on one connection',
        run: () => gatewayRoundTrip({ clients: 0, bytesPerSecond: 0, shared: true }),
      },
    ],
  },
  {
    id: 'gateway.control-under-telemetry',
    title:
      'gateway: control round trip while 50 clients receive 10 MB/s of telemetry (goal p99 ≤ 1.10× without)',
    kind: 'latency',
    baseline: {
      name: 'gateway, 50 clients, no telemetry',
      run: () => gatewayRoundTrip({ clients: 50, bytesPerSecond: 0 }),
    },
    candidates: [
      {
        name: 'gateway, 50 clients, 10 MB/s telemetry',
        run: () => gatewayRoundTrip({ clients: 50, bytesPerSecond: 10e6 }),
      },
      {
        name: 'same, operator with both lanes on one connection',
        run: () => gatewayRoundTrip({ clients: 50, bytesPerSecond: 10e6, shared: true }),
      },
    ],
  },
  {
    id: 'gateway.telemetry-fan-out',
    title: `gateway: telemetry fan-out to ${FANOUT_CLIENTS} clients, messages delivered per second (goal ≥ 0.5× raw ws)`,
    kind: 'throughput',
    baseline: { name: 'raw ws broadcast + JSON', run: rawFanOut },
    candidates: [{ name: 'gateway (per-client keep-last mailboxes)', run: gatewayFanOut }],
  },
  {
    id: 'gateway.constrained-link',
    title: `gateway: control-lane round trip for an operator behind a ${LINK_RATE}/s link saturated by telemetry (a connection per lane vs one shared)`,
    kind: 'latency',
    unavailable: constrainedLinkUnavailable,
    baseline: {
      name: 'a connection per lane, no telemetry',
      run: () => constrainedRoundTrip('separate', 0),
    },
    candidates: [
      {
        name: 'a connection per lane, 2 MB/s of telemetry offered',
        run: () => constrainedRoundTrip('separate', 2e6),
      },
      {
        name: 'one shared connection, 2 MB/s of telemetry offered',
        run: () => constrainedRoundTrip('shared', 2e6),
      },
    ],
  },
  {
    id: 'gateway.memory',
    title: `gateway: server heap per connected client (${MEMORY_CLIENTS} clients)`,
    kind: 'memory',
    baseline: {
      name: 'raw ws',
      run: () =>
        heapPerClient(async () => {
          const s = await rawWsServer(() => {});
          return { url: s.url, mode: 'ws', close: s.close };
        }),
    },
    candidates: [
      {
        name: 'bare socket.io, 2 connections per client (the floor)',
        run: () =>
          heapPerClient(async () => {
            const s = await bareSocketIoServer();
            return { url: s.url, mode: 'socket.io', close: s.close };
          }),
      },
      {
        name: 'gateway (2 connections per client)',
        run: () =>
          heapPerClient(async () => {
            const g = await startGateway();
            return { url: g.url, mode: 'gateway', close: g.close };
          }),
      },
    ],
  },
];
