/**
 * The MuJoCo sidecar, each figure beside a baseline measured in the same run:
 *
 * - physics throughput: `step(2000)` requests through the sidecar, against MuJoCo stepping the
 *   same scene in a bare Python loop (the engine alone);
 * - real time: the real-time factor while the default scene runs at its physics rate, without a
 *   camera (baseline) and with a 640×480 camera at 30 fps, plus the frames per second delivered;
 * - state messages per second the sidecar delivers when asked for 500 Hz;
 * - act → the command taking effect in the simulation (the sidecar's actuation report back),
 *   against a bare ping over the same connection.
 */
import { execFileSync } from 'node:child_process';
import { silentLogger } from '@telekit/core';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import { filter, firstValueFrom } from 'rxjs';
import { findPython, sidecarSimulator } from '../src/index.js';

const SCENE = { id: 'diff-drive', path: 'diff-drive' };
const STEPS = 20_000;

async function withSim<T>(fn: (sim: ReturnType<typeof sidecarSimulator>) => Promise<T>): Promise<T> {
  const sim = sidecarSimulator({ logger: silentLogger });
  try {
    await sim.loadScene(SCENE);
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function bareMujoco(): BenchMeasurement {
  const script = `
import time, mujoco
from importlib import resources
m = mujoco.MjModel.from_xml_path(str(resources.files("telekit_sim") / "scenes" / "diff_drive.xml"))
d = mujoco.MjData(m)
d.ctrl[:] = [5, 5]
t = time.perf_counter()
for _ in range(${STEPS}): mujoco.mj_step(m, d)
print(${STEPS} / (time.perf_counter() - t))`;
  const rate = Number(execFileSync(findPython(), ['-c', script], { encoding: 'utf8' }).trim());
  return { rate, extra: { 'real-time factor possible': (rate * 0.005).toFixed(0) } };
}

async function sidecarSteps(): Promise<BenchMeasurement> {
  return withSim(async (sim) => {
    sim.act({ kind: 'twist', linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    const t0 = performance.now();
    for (let i = 0; i < STEPS / 2_000; i++) await sim.step(2_000);
    const rate = STEPS / ((performance.now() - t0) / 1000);
    return { rate, extra: { 'real-time factor possible': (rate * 0.005).toFixed(0) } };
  });
}

async function realTime(camera: boolean): Promise<BenchMeasurement> {
  return withSim(async (sim) => {
    let frames = 0;
    const sub = camera ? sim.frames$.subscribe(() => frames++) : undefined;
    if (camera) await sim.camera({ width: 640, height: 480, fps: 30, camera: 'overview' });
    await sim.run({ stateHz: 20 });
    await new Promise((r) => setTimeout(r, 500));
    const first = await firstValueFrom(sim.state$);
    const f0 = frames;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 3_000));
    const last = await firstValueFrom(sim.state$);
    const seconds = (performance.now() - t0) / 1000;
    sub?.unsubscribe();
    const rtf = (last.time - first.time) / seconds;
    const extra: Record<string, string | number> = { 'real-time factor': rtf.toFixed(3) };
    if (camera) extra['camera fps delivered'] = `${((frames - f0) / seconds).toFixed(1)} of 30`;
    return { rate: rtf, extra };
  });
}

async function stateRate(): Promise<BenchMeasurement> {
  return withSim(async (sim) => {
    let n = 0;
    const sub = sim.state$.subscribe(() => n++);
    await sim.run({ stateHz: 500 });
    await new Promise((r) => setTimeout(r, 300));
    const n0 = n;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2_000));
    const rate = (n - n0) / ((performance.now() - t0) / 1000);
    sub.unsubscribe();
    return { rate, extra: { requested: '500/s' } };
  });
}

async function actToEffect(): Promise<BenchMeasurement> {
  return withSim(async (sim) => {
    await sim.run({ stateHz: 20 });
    let seq = 0;
    const samples = await measureLatency(
      async () => {
        const header = { seq: seq++, stamp: Date.now(), sender: 'bench' };
        const done = firstValueFrom(sim.actuations$.pipe(filter((a) => a.command.seq === header.seq)));
        sim.act(
          { kind: 'twist', linear: { x: (seq % 2) * 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
          header,
        );
        await done;
      },
      { iterations: 300, warmup: 20 },
    );
    return { samples, extra: { 'physics step': '5 ms' } };
  });
}

async function pingRoundTrip(): Promise<BenchMeasurement> {
  return withSim(async (sim) => {
    await sim.run({ stateHz: 20 });
    const conn = await sim.openConnection();
    const samples = await measureLatency(async () => void (await conn.request('ping')), {
      iterations: 300,
      warmup: 20,
    });
    conn.close();
    return { samples };
  });
}

export const benchmarks: Benchmark[] = [
  {
    id: 'sim.physics-throughput',
    title: `sim-genesis: physics steps per second, diff-drive scene (${STEPS.toLocaleString('en-US')} steps)`,
    kind: 'throughput',
    baseline: { name: 'MuJoCo in a bare Python loop', run: async () => bareMujoco() },
    candidates: [{ name: 'sidecar, step(2000) requests', run: sidecarSteps }],
  },
  {
    id: 'sim.real-time',
    title: 'sim-genesis: real-time factor running the default scene at its physics rate (200 Hz)',
    kind: 'throughput',
    baseline: { name: 'no camera', run: () => realTime(false) },
    candidates: [{ name: '640×480 camera at 30 fps (OSMesa, CPU)', run: () => realTime(true) }],
  },
  {
    id: 'sim.state-rate',
    title: 'sim-genesis: state messages per second delivered to Node (asked for 500/s)',
    kind: 'throughput',
    baseline: { name: 'requested rate', run: async () => ({ rate: 500 }) },
    candidates: [{ name: 'sidecar state events', run: stateRate }],
  },
  {
    id: 'sim.act-to-effect',
    title: 'sim-genesis: act → the command taking effect (actuation report back), while running',
    kind: 'latency',
    baseline: { name: 'ping round trip on the same connection', run: pingRoundTrip },
    candidates: [{ name: 'act → actuation', run: actToEffect }],
  },
];
