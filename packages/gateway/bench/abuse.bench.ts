/**
 * `pnpm bench gateway.abuse`: a legitimate operator's control round trip (twist → actuation report,
 * through the real `gatewayClient`) while the gateway is attacked, against the same with no attack,
 * measured in the same run:
 *
 * - one client flooding refused commands (an operator without the lease, no acks);
 * - one client that never reads (subscribed to 5 MB/s of telemetry, asking for answers);
 * - four unauthenticated connections sending 918 kB frames;
 * - one token opening 50 sessions, each flooding requests.
 *
 * The gateway runs in a child process (test-attack/fixtures/target.ts, its default options), the
 * attacker in another (test-attack/fixtures/attacker.ts), the operator here. Each variant reports its
 * round trip's p50/p99 and their ratio to the idle baseline (goal: p99 ≤ 2×), the gateway's RSS growth
 * during the attack (goal ≤ 50 MB), and whether the app was disturbed: operator commands lost, the
 * lease lost, or commands refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Topics, type Twist } from '@telekit/core';
import type { Actuation } from '@telekit/core/schemas';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { gatewayClient } from '../src/client/index.js';
import { startTarget, type Target } from '../test-attack/harness/target.js';
import { token } from '../test-attack/harness/tokens.js';

const ROUND_TRIPS = 1_000;
const WARMUP = 100;
/** The operator commands at 50 Hz, as a teleop page does (and within the default 100/s limit). */
const PERIOD_MS = 20;
/** A trip that takes longer than this is counted as lost (and as a disturbance). */
const LOST_MS = 2_000;
/** The most one variant's measurement may take (an attack that stalls every trip would take forever). */
const BUDGET_MS = 40_000;
const TELEMETRY_BYTES_PER_SECOND = 5e6;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const attackerScript = fileURLToPath(new URL('../test-attack/fixtures/attacker.ts', import.meta.url));

const pause = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

type Scenario = 'refused-flood' | 'never-reads' | 'big-frames' | 'many-sessions';

/** Starts the attacker process; `stop()` ends it and resolves with its figures. */
async function attacker(scenario: Scenario, url: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', attackerScript, scenario, url],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const started = await next();
  if (started !== '@@attacker started') throw new Error(`attacker said ${started}`);
  return {
    async stop(): Promise<Record<string, number>> {
      const answer = new Promise<string>((resolve) =>
        lines.on('line', (l) => l.startsWith('@@attacker {') && resolve(l)),
      );
      child.stdin!.write('stop\n');
      const line = await Promise.race([
        answer,
        new Promise<string>((r) => setTimeout(() => r('@@attacker {}'), 15_000)),
      ]);
      child.kill('SIGKILL');
      return JSON.parse(line.slice(11)) as Record<string, number>;
    },
  };
}

/** The operator's round trips, with what went wrong on the way. */
async function operatorRoundTrips(target: Target, during?: () => Promise<void>) {
  const client = gatewayClient({
    url: target.url,
    token: await token('bench-operator', 'operator'),
    connectTimeoutMs: 30_000,
  });
  try {
    const faults: string[] = [];
    client.faults$.subscribe((f) => faults.push(f.code));
    await client.connect();
    const lease = await client.requestControl();
    if (!lease.granted) throw new Error(`the operator could not take the lease: ${JSON.stringify(lease)}`);
    let waiting: { seq: number; done: () => void } | undefined;
    client.subscribe(Topics.actuation, { depth: 64 }).subscribe((a: Actuation) => {
      if (waiting && a.command.seq === waiting.seq) waiting.done();
    });
    let seq = 0;
    const trip = () =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), LOST_MS);
        const t: Twist = {
          header: { seq: ++seq, stamp: performance.timeOrigin + performance.now(), sender: 'bench' },
          linear: { x: 0.3, y: 0, z: 0 },
          angular: { x: 0, y: 0, z: 0 },
        };
        waiting = {
          seq: t.header.seq,
          done: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
        client.publish(Topics.twist, t);
      });
    // The first trips also wait for the actuation subscription to be live.
    for (let i = 0, ok = 0; ok < WARMUP; i++) {
      const t0 = performance.now();
      if (await trip()) ok++;
      await pause(t0 + PERIOD_MS - performance.now());
      if (i > WARMUP + 10) throw new Error(`only ${ok} of ${i} warm-up round trips completed`);
    }
    await during?.();
    const samples: number[] = [];
    let lost = 0;
    const end = performance.now() + BUDGET_MS;
    for (let i = 0; i < ROUND_TRIPS && performance.now() < end; i++) {
      const t0 = performance.now();
      if (await trip()) samples.push(performance.now() - t0);
      else lost++;
      await pause(t0 + PERIOD_MS - performance.now());
    }
    const held = client.holdsControl;
    return { samples, lost, faults, held };
  } finally {
    await client.close();
  }
}

async function variant(scenario?: Scenario): Promise<BenchMeasurement> {
  try {
    return await measure(scenario);
  } catch (error) {
    return { samples: [], extra: { failed: String(error).slice(0, 200) } };
  }
}

async function measure(scenario?: Scenario): Promise<BenchMeasurement> {
  const target = await startTarget('default', { logLevel: 'warn' });
  try {
    let attack: Awaited<ReturnType<typeof attacker>> | undefined;
    let rssBefore = 0;
    let rssPeak = 0;
    let sampler: ReturnType<typeof setInterval> | undefined;
    let r: Awaited<ReturnType<typeof operatorRoundTrips>>;
    let attackStats: Record<string, number> = {};
    try {
      r = await operatorRoundTrips(target, async () => {
        rssBefore = (await target.memory()).rss;
        rssPeak = rssBefore;
        sampler = setInterval(() => {
          void target
            .memory()
            .then((m) => {
              rssPeak = Math.max(rssPeak, m.rss);
            })
            .catch(() => undefined);
        }, 250);
        if (scenario === 'never-reads') await target.load(TELEMETRY_BYTES_PER_SECOND);
        if (scenario) {
          attack = await attacker(scenario, target.url);
          // Let the attack build up before measuring.
          await new Promise((res) => setTimeout(res, 2_000));
        }
      });
    } finally {
      clearInterval(sampler);
      attackStats = (await attack?.stop()) ?? {};
    }
    const alive = target.alive;
    const refused = r.faults.filter((c) => c !== 'E_NOT_CONNECTED');
    const disturbed = [
      ...(alive ? [] : ['the gateway died']),
      ...(r.lost ? [`${r.lost} trips lost`] : []),
      ...(r.held ? [] : ['lease lost']),
      ...(refused.length ? [`refused ${[...new Set(refused)].join('/')} ×${refused.length}`] : []),
    ];
    return {
      samples: r.samples,
      extra: {
        'RSS growth': `${((rssPeak - rssBefore) / 1e6).toFixed(1)} MB`,
        'app disturbed': disturbed.length ? disturbed.join(', ') : 'no',
        ...Object.fromEntries(Object.entries(attackStats).map(([k, v]) => [k, v])),
      },
    };
  } finally {
    await target.close();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'gateway.abuse.control-round-trip',
    title: `gateway under abuse: another operator's control round trip, twist → actuation report (${ROUND_TRIPS.toLocaleString('en-US')} trips; goals p99 ≤ 2× idle, RSS growth ≤ 50 MB, app undisturbed)`,
    kind: 'latency',
    baseline: { name: 'idle', run: () => variant() },
    candidates: [
      { name: 'one client flooding refused commands', run: () => variant('refused-flood') },
      {
        name: `one client never reading (${TELEMETRY_BYTES_PER_SECOND / 1e6} MB/s telemetry)`,
        run: () => variant('never-reads'),
      },
      { name: 'four unauthenticated 918 kB frame senders', run: () => variant('big-frames') },
      { name: 'one token, 50 sessions flooding requests', run: () => variant('many-sessions') },
    ],
  },
];
