/**
 * The in-process transport against a bare RxJS Subject:
 * - control-lane round trip: an operator publishes a twist, the robot answers with a joint state on
 *   the telemetry lane, the operator awaits the answer;
 * - telemetry throughput: a publisher pushes battery samples as fast as it can, one subscriber
 *   counts them.
 *
 * The Subject delivers synchronously and checks nothing; the transport validates every message,
 * goes through a mailbox per subscriber and delivers on a microtask. The ratios are the price of
 * those guarantees.
 */
import { inProcessTransport, type JointState, Topics, type Twist } from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { Subject } from 'rxjs';

const ROUND_TRIPS = 20_000;
const SAMPLES = 200_000;
const CHUNK = 1_000;

const twist = (seq: number): Twist => ({
  header: { seq, stamp: performance.timeOrigin + performance.now(), sender: 'bench' },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});
const reply = (seq: number): JointState => ({
  ...exampleMessages.jointState,
  header: { seq, stamp: 0, sender: 'robot' },
});
const battery = (seq: number) => ({ ...exampleMessages.battery, header: { seq, stamp: 0, sender: 'bench' } });
const tick = () => new Promise<void>((r) => setImmediate(r));

async function subjectRoundTrip() {
  const commands = new Subject<Twist>();
  const replies = new Subject<JointState>();
  commands.subscribe((c) => replies.next(reply(c.header.seq)));
  let resolve: () => void = () => {};
  replies.subscribe(() => resolve());
  let seq = 0;
  return {
    samples: await measureLatency(
      () =>
        new Promise<void>((r) => {
          resolve = r;
          commands.next(twist(seq++));
        }),
      { iterations: ROUND_TRIPS },
    ),
  };
}

async function transportRoundTrip(validate: boolean) {
  const t = inProcessTransport({ validate });
  const robot = t.subscribe(Topics.twist).subscribe((c) => t.publish(Topics.jointState, reply(c.header.seq)));
  let resolve: () => void = () => {};
  const operator = t.subscribe(Topics.jointState, { depth: 1 }).subscribe(() => resolve());
  await tick();
  let seq = 0;
  const samples = await measureLatency(
    () =>
      new Promise<void>((r) => {
        resolve = r;
        t.publish(Topics.twist, twist(seq++));
      }),
    { iterations: ROUND_TRIPS },
  );
  robot.unsubscribe();
  operator.unsubscribe();
  await t.close();
  return { samples };
}

async function subjectThroughput() {
  const s = new Subject<ReturnType<typeof battery>>();
  let received = 0;
  s.subscribe(() => received++);
  const t0 = performance.now();
  for (let i = 0; i < SAMPLES; i++) {
    s.next(battery(i));
    if (i % CHUNK === CHUNK - 1) await tick();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rate: received / seconds, extra: { delivered: received } };
}

async function transportThroughput(validate: boolean, depth: number) {
  const t = inProcessTransport({ validate });
  const feed = t.subscribe(Topics.battery, { depth });
  let received = 0;
  const sub = feed.subscribe(() => received++);
  await tick();
  const t0 = performance.now();
  for (let i = 0; i < SAMPLES; i++) {
    t.publish(Topics.battery, battery(i));
    if (i % CHUNK === CHUNK - 1) await tick();
  }
  await tick();
  const seconds = (performance.now() - t0) / 1000;
  const stats = feed.stats();
  sub.unsubscribe();
  await t.close();
  return { rate: SAMPLES / seconds, extra: { delivered: stats.delivered, dropped: stats.dropped } };
}

export const benchmarks: Benchmark[] = [
  {
    id: 'core.control-round-trip',
    title: `core: control-lane round trip, twist → joint state (${ROUND_TRIPS.toLocaleString('en-US')} trips)`,
    kind: 'latency',
    baseline: { name: 'rxjs Subject', run: subjectRoundTrip },
    candidates: [
      { name: 'inProcessTransport', run: () => transportRoundTrip(true) },
      { name: 'inProcessTransport, validate: false', run: () => transportRoundTrip(false) },
    ],
  },
  {
    id: 'core.telemetry-throughput',
    title: `core: telemetry throughput, /telemetry/battery (${SAMPLES.toLocaleString('en-US')} samples, 1 subscriber)`,
    kind: 'throughput',
    baseline: { name: 'rxjs Subject', run: subjectThroughput },
    candidates: [
      { name: 'inProcessTransport, depth 16', run: () => transportThroughput(true, 16) },
      { name: 'inProcessTransport, depth 16, validate: false', run: () => transportThroughput(false, 16) },
      {
        name: 'inProcessTransport, depth 1024, validate: false',
        run: () => transportThroughput(false, 1024),
      },
    ],
  },
];
