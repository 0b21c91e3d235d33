/**
 * Genesis on this machine's CPU beside MuJoCo, both behind the same sidecar, in the same run:
 *
 * - physics throughput: steps per second of the diff-drive scene through `step(n)` requests while
 *   the base drives (MuJoCo the baseline, Genesis's CPU backend the candidate), and the real-time
 *   factor that rate would allow;
 * - real time with the camera: the real-time factor while the scene runs at its physics rate
 *   (200 Hz) with the demo's camera (640×480 at 30 fps) on, and the frames per second delivered.
 *
 * Genesis needs `genesis-world` in the sidecar's Python (`bash scripts/setup.sh --genesis`, or
 * `$TELEKIT_PYTHON`); without it these benchmarks say so and skip. Its kernels compile on first use
 * (minutes with an empty cache: `$TELEKIT_GENESIS_CACHE`, default `.cache/telekit/genesis`); the
 * load is not measured, only what runs after it.
 */
import { execFileSync } from 'node:child_process';
import { silentLogger } from '@telekit/core';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { firstValueFrom } from 'rxjs';
import { findPython, type SidecarSimulator, sidecarSimulator } from '../src/index.js';

const SCENE = { id: 'diff-drive', path: 'diff-drive' };
type Backend = 'mujoco' | 'genesis';

/** Why Genesis cannot run here, or undefined (found without importing it: that takes seconds). */
function genesisMissing(): string | undefined {
  const probe = 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("genesis") else 1)';
  try {
    execFileSync(findPython(), ['-c', probe], { stdio: 'ignore', timeout: 30_000 });
    return undefined;
  } catch {
    return `genesis-world is not importable by ${findPython()} (bash scripts/setup.sh --genesis, or set TELEKIT_PYTHON)`;
  }
}

async function withSim(
  backend: Backend,
  fn: (sim: SidecarSimulator) => Promise<BenchMeasurement>,
): Promise<BenchMeasurement> {
  // The load waits on its progress, however long Genesis compiles; requests after it get 2 min.
  const sim = sidecarSimulator({ backend, logger: silentLogger, requestTimeoutMs: 120_000 });
  try {
    await sim.loadScene(SCENE);
    const r = await fn(sim);
    return { ...r, extra: { engine: String(sim.health().data?.engine ?? backend), ...r.extra } };
  } finally {
    await sim.close();
  }
}

/** Steps by `step(n)` requests, driving forward, for about `seconds` of wall time. */
function throughput(backend: Backend, perRequest: number, seconds: number) {
  return () =>
    withSim(backend, async (sim) => {
      sim.act({ kind: 'twist', linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
      await sim.step(perRequest); // the first steps of a scene may still compile something
      let steps = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await sim.step(perRequest);
        steps += perRequest;
      }
      const rate = steps / ((performance.now() - t0) / 1000);
      return { rate, extra: { 'real-time factor possible': (rate * 0.005).toFixed(2) } };
    });
}

/** The real-time factor running at 200 Hz with the 640×480 camera at 30 fps, and the fps delivered. */
function realTimeWithCamera(backend: Backend) {
  return () =>
    withSim(backend, async (sim) => {
      let frames = 0;
      const sub = sim.frames$.subscribe(() => frames++);
      await sim.camera({ width: 640, height: 480, fps: 30, camera: 'overview' });
      await sim.run({ stateHz: 20 });
      await new Promise((r) => setTimeout(r, 2_000));
      const first = await firstValueFrom(sim.state$);
      const f0 = frames;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 6_000));
      const last = await firstValueFrom(sim.state$);
      const seconds = (performance.now() - t0) / 1000;
      sub.unsubscribe();
      const rtf = (last.time - first.time) / seconds;
      return {
        rate: rtf,
        extra: {
          'real-time factor': rtf.toFixed(3),
          'camera fps delivered': `${((frames - f0) / seconds).toFixed(1)} of 30`,
        },
      };
    });
}

export const benchmarks: Benchmark[] = [
  {
    id: 'genesis.steps',
    title:
      'sim-genesis: Genesis (CPU backend) physics steps per second beside MuJoCo, diff-drive scene, driving',
    kind: 'throughput',
    unavailable: genesisMissing,
    baseline: { name: 'MuJoCo sidecar, step(2000) requests', run: throughput('mujoco', 2_000, 3) },
    candidates: [{ name: 'Genesis sidecar (CPU), step(100) requests', run: throughput('genesis', 100, 8) }],
  },
  {
    id: 'genesis.real-time-camera',
    title:
      'sim-genesis: real-time factor running diff-drive at 200 Hz with the 640×480 camera at 30 fps, Genesis (CPU) beside MuJoCo',
    kind: 'throughput',
    unavailable: genesisMissing,
    baseline: { name: 'MuJoCo sidecar, OSMesa camera', run: realTimeWithCamera('mujoco') },
    candidates: [{ name: 'Genesis sidecar (CPU), its rasteriser', run: realTimeWithCamera('genesis') }],
  },
];
