/**
 * The browser simulator, each figure beside a baseline measured in the same run:
 *
 * - physics throughput: MuJoCo's WebAssembly build (in Node's V8, Chromium's engine) against
 *   native MuJoCo (the Python package, the server sidecar's engine) stepping the same model;
 * - snapshot size and sync bandwidth at 10 Hz, against the `/telemetry/sim_state` message server
 *   mode sends;
 * - divergence over 10 s between the server sidecar (native) and the browser simulator (WASM) that
 *   start equal and get the same inputs: without sync (baseline) and with 10 Hz snapshots, each
 *   also with the server getting every input 50 ms late (a network in between).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@telekit/core';
import type { SimAction, SimulatorState } from '@telekit/core/contracts';
import { bundledScenes, findPython, sidecarSimulator } from '@telekit/sim-genesis';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { launchChromium } from '@telekit/testkit/browser';
import { pack as encode } from 'msgpackr';
import { AuthoritySync, SimTopics, wasmSimulator } from '../src/index.js';
import { fileScenes } from '../src/server/index.js';

const SCENE = { id: 'diff-drive', path: 'diff-drive' };
const STEPS = 50_000;
const scenes = fileScenes(bundledScenes);

function nativeSteps(): BenchMeasurement {
  const script = `
import time, mujoco
m = mujoco.MjModel.from_xml_path(${JSON.stringify(bundledScenes['diff-drive'])})
d = mujoco.MjData(m)
d.ctrl[:] = [5, 5]
for _ in range(${STEPS / 5}): mujoco.mj_step(m, d)
t = time.perf_counter()
for _ in range(${STEPS}): mujoco.mj_step(m, d)
print(${STEPS} / (time.perf_counter() - t), mujoco.__version__)`;
  const [rate, version] = execFileSync(findPython(), ['-c', script], { encoding: 'utf8' }).trim().split(' ');
  return { rate: Number(rate), extra: { engine: `mujoco ${version} (native)` } };
}

async function wasmSteps(): Promise<BenchMeasurement> {
  const sim = wasmSimulator({ scenes });
  try {
    await sim.loadScene(SCENE);
    sim.act({ kind: 'twist', linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    await sim.step(STEPS / 5); // V8 tiers the module up to its optimising compiler first
    const t0 = performance.now();
    for (let i = 0; i < STEPS / 1000; i++) await sim.step(1000);
    const rate = STEPS / ((performance.now() - t0) / 1000);
    return { rate, extra: { engine: `${sim.engine} (wasm, V8 ${process.versions.v8})` } };
  } finally {
    await sim.close();
  }
}

/** The same engine build in Debian's Chromium: a page imports it and steps the same model. */
async function chromiumSteps(): Promise<BenchMeasurement> {
  const dir = createRequire(import.meta.url)
    .resolve('@mujoco/mujoco/mujoco.wasm')
    .replace(/mujoco\.wasm$/, '');
  const files: Record<string, [string, Uint8Array | string]> = {
    '/mujoco.js': ['text/javascript', readFileSync(`${dir}mujoco.js`)],
    '/mujoco.wasm': ['application/wasm', readFileSync(`${dir}mujoco.wasm`)],
    '/scene.xml': ['text/xml', readFileSync(bundledScenes['diff-drive'])],
    '/': ['text/html', '<!doctype html><title>steps</title>'],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const [rate, version] = await page.evaluate(async (steps) => {
      const { default: load } = await import('/mujoco.js' as string);
      const mj = await load();
      const vfs = new mj.MjVFS();
      vfs.addBuffer('scene.xml', new Uint8Array(await (await fetch('/scene.xml')).arrayBuffer()));
      const model = mj.MjModel.from_xml_path('scene.xml', vfs);
      const data = new mj.MjData(model);
      data.ctrl[0] = 5;
      data.ctrl[1] = 5;
      for (let i = 0; i < steps / 5; i++) mj.mj_step(model, data);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) mj.mj_step(model, data);
      return [steps / ((performance.now() - t0) / 1000), mj.mj_versionString()] as [number, string];
    }, STEPS);
    return { rate, extra: { engine: `mujoco ${version} (wasm, Chromium ${browser.version()})` } };
  } finally {
    await browser.close();
    server.close();
  }
}

async function sizes(): Promise<{ state: number; snapshot: number }> {
  const sim = wasmSimulator({ scenes });
  try {
    await sim.loadScene(SCENE);
    const s = await sim.step(100);
    const header = { seq: 1, stamp: Date.now(), sender: '@telekit/sim-genesis' };
    const state = encode({
      header,
      scene: s.scene,
      time: s.time,
      step: s.step,
      realtimeFactor: 1,
      paused: false,
      bodies: s.bodies,
    });
    const snap = await sim.snapshot();
    const message = SimTopics.snapshot.schema.parse({ header, ...snap, step: s.step, reason: 'periodic' });
    return { state: state.byteLength, snapshot: encode(message).byteLength };
  } finally {
    await sim.close();
  }
}

/** The operator's inputs: a new twist every second. */
const script: SimAction[] = [
  [0.5, 0],
  [0.5, 0.6],
  [0.2, -1],
  [0.6, 0],
  [0, 1.2],
  [0.4, 0.3],
  [0.5, -0.5],
  [0, 0],
  [0.6, 0.2],
  [0.3, -0.8],
].map(([x, z]) => ({ kind: 'twist', linear: { x: x!, y: 0, z: 0 }, angular: { x: 0, y: 0, z: z! } }));

const distance = (a: SimulatorState, b: SimulatorState) =>
  Math.max(
    ...a.bodies.map((body, i) => {
      const o = b.bodies[i]!.position;
      return Math.hypot(body.position.x - o.x, body.position.y - o.y, body.position.z - o.z);
    }),
  );

/**
 * 10 s of the scripted drive on the server sidecar and the browser simulator in lockstep, sampling
 * the largest body distance every 50 ms (just before a snapshot would be applied).
 */
async function divergence(sync: boolean, inputLatencyMs: number): Promise<BenchMeasurement> {
  const server = sidecarSimulator({ backend: 'mujoco', logger: silentLogger });
  const browser = wasmSimulator({ scenes });
  try {
    const info = await server.loadScene(SCENE);
    await browser.loadScene(SCENE);
    await browser.restore(await server.snapshot()); // start equal
    const authority = new AuthoritySync(browser);
    const chunk = Math.round(0.05 / info.timestep); // 50 ms
    const lateChunks = Math.round(inputLatencyMs / 50);
    const perSecond = 20;
    const samples: number[] = [];
    let inFlight: Awaited<ReturnType<typeof server.snapshot>> | undefined;
    let corrections = 0;
    for (let k = 0; k < 10 * perSecond; k++) {
      if (k % perSecond === 0) authority.act(script[k / perSecond]!);
      const late = k - lateChunks;
      if (late >= 0 && late % perSecond === 0) server.act(script[late / perSecond]!);
      const there = await server.step(chunk);
      await authority.step(chunk);
      samples.push(distance(there, browser.current()));
      // 10 Hz: a snapshot leaves every other chunk and arrives one chunk (50 ms) later.
      if (sync && inFlight) {
        const report = await authority.apply(inFlight);
        if (report.correction !== 'none') corrections++;
        inFlight = undefined;
      }
      if (sync && k % 2 === 0) inFlight = await server.snapshot();
    }
    authority.close();
    const final = samples.at(-1)!;
    return {
      samples,
      extra: {
        'after 10 s': `${(final * 1000).toFixed(2)} mm`,
        ...(sync ? { corrections } : {}),
      },
    };
  } finally {
    await server.close();
    await browser.close();
  }
}

let measured: Promise<{ state: number; snapshot: number }> | undefined;
const sized = () => {
  measured ??= sizes();
  return measured;
};

export const benchmarks: Benchmark[] = [
  {
    id: 'sim-browser.steps',
    title: 'Physics steps per second, wheeled robot (goal: WASM ≥ 0.5× native)',
    kind: 'throughput',
    baseline: { name: 'native MuJoCo (Python, the sidecar)', run: async () => nativeSteps() },
    candidates: [
      { name: 'MuJoCo WebAssembly in Node (wasmSimulator)', run: wasmSteps },
      { name: 'MuJoCo WebAssembly in Chromium', run: chromiumSteps },
    ],
  },
  {
    id: 'sim-browser.snapshot',
    title: 'Authority sync: message size and bandwidth at 10 Hz (msgpack)',
    kind: 'memory',
    baseline: {
      name: '/telemetry/sim_state (server mode)',
      run: async () => {
        const { state } = await sized();
        return { bytes: state, extra: { 'at 10 Hz': `${((state * 10) / 1024).toFixed(1)} KiB/s` } };
      },
    },
    candidates: [
      {
        name: '/telemetry/sim_snapshot',
        run: async () => {
          const { snapshot } = await sized();
          return {
            bytes: snapshot,
            extra: { 'at 10 Hz': `${((snapshot * 10) / 1024).toFixed(1)} KiB/s` },
          };
        },
      },
    ],
  },
  {
    id: 'sim-browser.divergence',
    title: 'Browser (WASM) vs server (native) over 10 s, equal start, same inputs: largest body distance',
    kind: 'error',
    baseline: { name: 'no sync', run: () => divergence(false, 0) },
    candidates: [
      { name: 'sync at 10 Hz', run: () => divergence(true, 0) },
      { name: 'no sync, inputs reach the server 50 ms late', run: () => divergence(false, 50) },
      { name: 'sync at 10 Hz, inputs 50 ms late', run: () => divergence(true, 50) },
    ],
  },
];
