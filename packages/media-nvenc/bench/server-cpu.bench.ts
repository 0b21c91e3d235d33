/**
 * What the demo's server side costs in CPU with 0, 1 and 5 viewers, component by component, against
 * the budget: at most 0.7 of a core with one viewer at 30 fps, 0.2 with none.
 *
 * The server (fixtures/server-app.ts: the MuJoCo sidecar with the demo's scene and camera, libx264,
 * mediasoup, the gateway) runs in a process of its own; each viewer is a Debian Chromium page with
 * the camera viewer widget over WebRTC. CPU comes from the kernel's accounting (/proc/<pid>/stat) of
 * each server process, once a second for MEASURE_MS; the sidecar splits its own into physics,
 * render and the rest (its `perf` op, read through the app's health). Viewers decode on the same two
 * cores, so 5 viewers also slow the server down a little: the figures are what the server spent.
 *
 * Samples: the whole server side's CPU in each second, in ms per second (1 000 = one core busy).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/browser/harness.js';

const WARMUP_MS = 4_000;
const MEASURE_MS = 10_000;
const GOAL_IDLE = 0.2;
const GOAL_ONE = 0.7;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/server-app.ts', import.meta.url));

/** The demo's camera unless `TELEKIT_BENCH_CAMERA` says otherwise (JSON, see the fixture). */
const CAMERA = process.env.TELEKIT_BENCH_CAMERA ?? '{"width":640,"height":480,"fps":30}';

function stat(pid: number): { comm: string; ppid: number; cpuMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const f = text.slice(close + 2).split(' ');
    return {
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(f[1]),
      cpuMs: (Number(f[11]) + Number(f[12])) * 10,
    };
  } catch {
    return undefined;
  }
}

/** The server's processes by component: its Node process and its descendants. */
function serverProcesses(nodePid: number): Map<number, string> {
  const byParent = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), pid]);
  }
  const out = new Map<number, string>([[nodePid, 'node']]);
  const visit = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      const comm = stat(c)?.comm ?? '';
      out.set(
        c,
        comm === 'ffmpeg'
          ? 'encoder'
          : comm.startsWith('mediasoup')
            ? 'sfu'
            : comm.startsWith('python')
              ? 'sidecar'
              : 'other',
      );
      visit(c);
    }
  };
  visit(nodePid);
  return out;
}

async function startServer(): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture], {
    cwd: root,
    env: { ...process.env, TELEKIT_BENCH_CAMERA: CAMERA },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  return { ...(JSON.parse(line) as { url: string; pid: number }), child };
}

interface SidecarCpu {
  physics: number;
  render: number;
  loop: number;
  other: number;
}

async function sidecarSplit(url: string): Promise<SidecarCpu | undefined> {
  const h = (await (await fetch(`${url}/bench/health`)).json()) as {
    plugins: Record<string, { data?: { cpu?: SidecarCpu } }>;
  };
  return h.plugins['@telekit/sim-genesis']?.data?.cpu;
}

async function watch(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 700, height: 560 } });
  await page.goto(`${url}/watch`);
  await page.waitForFunction(() => window.telekitWatch?.connected, undefined, { timeout: 30_000 });
  await page.evaluate(() => window.telekitWatch.open('sim-camera'));
  await page.waitForFunction(() => (window.telekitWatch.stats()?.frames ?? 0) > 0, undefined, {
    timeout: 30_000,
  });
  return page;
}

const cores = (ms: number) => (ms / MEASURE_MS).toFixed(2);

async function measure(viewers: number): Promise<BenchMeasurement> {
  const server = await startServer();
  const browser = viewers > 0 ? await launchChromium() : undefined;
  try {
    const pages: Page[] = [];
    for (let i = 0; i < viewers; i++) pages.push(await watch(browser!, server.url));
    const firstFrame = pages[0]
      ? await pages[0].evaluate(() => window.telekitWatch.stats()?.firstFrameMs ?? null)
      : null;
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    // Once a second: each server process's CPU, and the sidecar's own split.
    const totals = new Map<string, number>();
    const split: SidecarCpu[] = [];
    const samples: number[] = [];
    let last = new Map<number, number>();
    for (const [pid] of serverProcesses(server.pid)) last.set(pid, stat(pid)?.cpuMs ?? 0);
    for (let t = 0; t < MEASURE_MS; t += 1_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = new Map<number, number>();
      let second = 0;
      for (const [pid, part] of serverProcesses(server.pid)) {
        const ms = stat(pid)?.cpuMs;
        if (ms === undefined) continue;
        now.set(pid, ms);
        const d = ms - (last.get(pid) ?? ms); // a process started this second counts from the next
        totals.set(part, (totals.get(part) ?? 0) + d);
        second += d;
      }
      last = now;
      samples.push(second);
      const s = await sidecarSplit(server.url).catch(() => undefined);
      if (s) split.push(s);
    }
    const mean = (k: keyof SidecarCpu) => split.reduce((a, s) => a + s[k], 0) / Math.max(1, split.length);
    const total = [...totals.values()].reduce((a, b) => a + b, 0);
    const goal = viewers === 0 ? GOAL_IDLE : viewers === 1 ? GOAL_ONE : undefined;
    const seen = await Promise.all(pages.map((p) => p.evaluate(() => window.telekitWatch.stats())));
    const fps = seen.map((s) => s?.fps ?? 0);
    const g2g = seen[0]?.budget?.glassToGlass;
    const stages = seen[0]?.budget?.stages.map((s) => `${s.stage} ${s.p50.toFixed(1)}`).join(' / ');
    const line = `server side ${cores(total)} core${goal === undefined ? '' : ` (goal ≤ ${goal}: ${total / MEASURE_MS <= goal ? 'met' : 'NOT met'})`}`;
    console.log(`  ${viewers} viewer(s): ${line}`);
    return {
      samples,
      extra: {
        'server side': line,
        sidecar: `${cores(totals.get('sidecar') ?? 0)} (physics ${mean('physics').toFixed(2)}, render ${mean('render').toFixed(2)}, loop ${mean('loop').toFixed(2)}, other ${mean('other').toFixed(2)})`,
        encoder: cores(totals.get('encoder') ?? 0),
        'node (gateway and plugins)': cores(totals.get('node') ?? 0),
        'SFU worker': cores(totals.get('sfu') ?? 0),
        camera: CAMERA,
        ...(viewers > 0
          ? {
              'viewer fps (min)': Math.min(...fps).toFixed(1),
              'first frame': `${firstFrame?.toFixed(0) ?? '—'} ms`,
              'glass-to-glass': g2g ? `p50 ${g2g.p50.toFixed(0)} ms, p99 ${g2g.p99.toFixed(0)} ms` : '—',
              'stages p50 (ms)': stages ?? '—',
            }
          : {}),
      },
    };
  } finally {
    await browser?.close();
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'media.server-cpu',
    title:
      'media-nvenc: the demo server’s CPU by component, 0 / 1 / 5 viewers (samples: CPU ms per second, 1000 = one core)',
    kind: 'latency',
    baseline: { name: '0 viewers (goal ≤ 0.2 core)', run: () => measure(0) },
    candidates: [
      { name: '1 viewer (goal ≤ 0.7 core)', run: () => measure(1) },
      { name: '5 viewers', run: () => measure(5) },
    ],
  },
];
