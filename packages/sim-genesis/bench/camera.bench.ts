/**
 * What the sidecar's camera costs, to choose the demo's camera by measurement: the MuJoCo sidecar
 * running the diff-drive scene in real time, its camera writing RGB frames at 30 fps to a TCP sink
 * that only counts them (the encoder's place), for MEASURE_MS. Samples: each frame's render time
 * (render start → pixels ready, ms); notes: the render CPU in cores (the render thread and
 * llvmpipe's, from the sidecar's own accounting), frames per second delivered, and the sidecar's
 * whole CPU.
 *
 * Baseline: the demo's camera (640×480 at 30 fps, no anti-aliasing, shadows and reflections off,
 * llvmpipe on one thread). Candidates: MuJoCo's own defaults (4× MSAA, shadows, reflections), other
 * sizes, and two rasteriser threads.
 */
import { createServer } from 'node:net';
import { silentLogger } from '@telekit/core';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { type CameraOptions, type FrameTiming, sidecarSimulator } from '../src/index.js';

const WARMUP_MS = 2_000;
const MEASURE_MS = 8_000;

async function camera(options: CameraOptions, renderThreads = 1): Promise<BenchMeasurement> {
  let bytes = 0;
  const sink = createServer((s) => s.on('data', (d) => (bytes += d.byteLength)));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sim = sidecarSimulator({ logger: silentLogger, renderThreads });
  try {
    await sim.loadScene({ id: 'diff-drive' });
    await sim.run({ stateHz: 50 });
    const port = (sink.address() as { port: number }).port;
    await sim.camera({
      camera: 'overview',
      fps: 30,
      format: 'rgb',
      ...options,
      sink: `tcp:127.0.0.1:${port}`,
    });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const frames: FrameTiming[] = [];
    const sub = sim.frameTimings$.subscribe((f) => frames.push(f));
    const before = sim.perf!;
    const b0 = bytes;
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    // The perf sample that covers the window's end.
    await new Promise((r) => setTimeout(r, 1_100));
    sub.unsubscribe();
    const after = sim.perf!;
    const fps = (after.camera.sent - before.camera.sent) / ((after.at - before.at) / 1000);
    const frameBytes = (options.width ?? 640) * (options.height ?? 480) * 3;
    return {
      samples: frames.map((f) => f.readyAt - f.capturedAt),
      extra: {
        'render CPU': `${after.cpu.render.toFixed(2)} core`,
        'sidecar CPU': `${after.cpu.total.toFixed(2)} core`,
        'fps sent': fps.toFixed(1),
        'Mbit/s to the encoder': (((bytes - b0) * 8) / (MEASURE_MS / 1000) / 1e6).toFixed(0),
        frame: `${(frameBytes / 1024).toFixed(0)} KiB`,
      },
    };
  } finally {
    await sim.close();
    sink.close();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'sim.camera-render',
    title:
      'sim-genesis: the camera’s render time and CPU at 30 fps (MuJoCo on llvmpipe), by size and quality',
    kind: 'latency',
    baseline: {
      name: '640×480, no MSAA, no shadows/reflections, 1 thread (the demo)',
      run: () => camera({ width: 640, height: 480 }),
    },
    candidates: [
      {
        name: '640×480, MuJoCo’s defaults (4× MSAA, shadows, reflections)',
        run: () => camera({ width: 640, height: 480, samples: 4, shadows: true, reflections: true }),
      },
      { name: '480×360', run: () => camera({ width: 480, height: 360 }) },
      { name: '1280×720', run: () => camera({ width: 1280, height: 720 }) },
      { name: '640×480, 2 rasteriser threads', run: () => camera({ width: 640, height: 480 }, 2) },
    ],
  },
];
