import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TTL_MS, Topics } from '@telekit/core';
import { canTieChildToParent, spawnChild } from '@telekit/core/node';
import { type GatewayClient, gatewayClient } from '@telekit/gateway/client';
import { afterEach, describe, expect, it } from 'vitest';

// Chaos: an operator drives the demo's simulated robot through the demo's gateway; the demo's Node
// process is then killed (SIGKILL) or hung (SIGSTOP). The robot must stop by itself, within the
// sidecar's deadman time plus 100 ms, and no child process may outlive the demo by more than 2 s.
//
// The robot is watched from the simulation itself: the sidecar writes a line per state (50 Hz here)
// to TELEKIT_SIM_TRACE, with CLOCK_MONOTONIC times (Node's process.hrtime) and the speed its wheels
// drive the base at. Times are measured from events (the kill, the last command the sidecar
// applied), not from wall-clock schedules, so a loaded machine only makes the test slower.

interface TraceRecord {
  event: 'start' | 'state' | 'deadman' | 'stop' | 'exit';
  mono: number;
  linear: number;
  angular: number;
  x: number;
  y: number;
  reason?: string;
  commandMs?: number;
  sinceCommandMs?: number;
}

/** Odometry below which the wheels drive the base no more, m/s and rad/s. */
const STILL = 0.02;
/** What the operator drives at, m/s. */
const SPEED = 0.5;
const here = fileURLToPath(new URL('.', import.meta.url));
const monotonic = () => Number(process.hrtime.bigint()) / 1e9;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `pid`, with its command name. */
function descendants(pid: number): { pid: number; name: string }[] {
  const parents = new Map<number, { ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      parents.set(Number(entry), { ppid, name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; name: string }[] = [];
  const walk = (parent: number) => {
    for (const [child, info] of parents) {
      if (info.ppid !== parent) continue;
      found.push({ pid: child, name: info.name });
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function readTrace(path: string): TraceRecord[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      return line.trim() ? [JSON.parse(line) as TraceRecord] : [];
    } catch {
      return []; // a line being written
    }
  });
}

/**
 * How late this machine ran the sidecar around `from`…`to`, s: the longest gap between its periodic
 * state records there, less their period. A starved machine (other work on two cores) delays every
 * process alike; the bounds below allow for it, so they test the code, not the machine's load.
 */
function lateness(records: TraceRecord[], from: number, to: number): number {
  const states = records
    .filter((r) => r.event === 'state' && r.mono >= from && r.mono <= to)
    .map((r) => r.mono);
  const gaps = states.slice(1).map((t, i) => t - states[i]!);
  if (gaps.length === 0) return 0;
  const period = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  return Math.max(0, Math.max(...gaps) - period);
}

/** The first state from which on (to the end of `records`) the wheels stand still. */
function stillFrom(records: TraceRecord[], after: number): TraceRecord | undefined {
  const later = records.filter((r) => r.mono >= after && (r.event === 'state' || r.event === 'exit'));
  let moving = -1;
  for (const [i, r] of later.entries()) if (r.linear >= STILL || r.angular >= STILL) moving = i;
  return later[moving + 1];
}

interface Demo {
  proc: ChildProcess;
  url: string;
  token: string;
  trace: string;
  children: { pid: number; name: string }[];
  stderr: string[];
}

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Starts the demo as its own Node process (`src/main.ts`), as a person would, and waits for its URLs. */
async function startDemo(): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-chaos-'));
  const trace = join(dir, 'sim-trace.jsonl');
  // Tied to this test process: a test that times out leaves no demo behind.
  const proc = spawnChild(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'main.ts'), '--port', '0'],
    {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TELEKIT_SIM_TRACE: trace, SIM_MODE: 'server' },
      parentDeathSignal: 'SIGKILL',
    },
  );
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
  });
  let children: { pid: number; name: string }[] = [];
  cleanup.push(() => {
    // Whatever happened, nothing of the demo survives this test.
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
    }
    for (const c of children) if (alive(c.pid)) process.kill(c.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const operator = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /^\s*operator:\s+(\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code, signal) =>
      reject(
        new Error(`the demo exited while starting (${signal ?? code}): ${stderr.slice(-5).join(' | ')}`),
      ),
    );
  });
  const url = new URL(operator);
  const token = url.searchParams.get('token') ?? '';
  // Video runs only while someone watches: the operator watches over HLS (each playlist request
  // holds the stream a few seconds), so the encoder is one of the children that must die too.
  const watching = setInterval(() => {
    void fetch(`${url.origin}/media/hls/sim-camera/index.m3u8`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);
  }, 1_000);
  cleanup.push(() => clearInterval(watching));
  await until(() => descendants(proc.pid!).some((c) => c.name === 'ffmpeg'), 30_000);
  children = descendants(proc.pid!);
  return {
    proc,
    url: url.origin,
    token,
    trace,
    get children() {
      return children;
    },
    stderr,
  };
}

/** An operator holding "forward": a twist at 20 Hz through the demo's gateway, until stopped. */
async function drive(demo: Demo): Promise<{ client: GatewayClient; stop: () => void }> {
  const client = gatewayClient({ url: demo.url, token: demo.token, reconnectDelayMaxMs: 500 });
  cleanup.push(() => client.close());
  await client.connect();
  const lease = await client.requestControl();
  expect(lease).toMatchObject({ granted: true });
  let seq = 0;
  const timer = setInterval(() => {
    try {
      client.publish(Topics.twist, {
        header: { seq: seq++, stamp: Date.now(), sender: 'chaos-operator' },
        linear: { x: SPEED, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
    } catch {
      // the gateway is gone: the operator keeps holding the key regardless
    }
  }, 50);
  cleanup.push(() => clearInterval(timer));
  return { client, stop: () => clearInterval(timer) };
}

/** Waits until the simulated robot has driven at the operator's speed for half a second. */
async function drivingSteadily(trace: string): Promise<boolean> {
  return until(() => {
    const states = readTrace(trace).filter((r) => r.event === 'state');
    const last = states.at(-1);
    if (!last || last.linear < SPEED * 0.8) return false;
    const since = states.filter((r) => r.mono >= last.mono - 0.5);
    return since.length > 10 && since.every((r) => r.linear > SPEED * 0.8);
  }, 30_000);
}

/** The sidecar's deadman time, from the start of its trace, s. */
function deadmanSeconds(records: TraceRecord[]): number {
  const start = records.find((r) => r.event === 'start');
  expect(start?.commandMs, 'the trace starts with the deadman time').toBeGreaterThan(0);
  return start!.commandMs! / 1000;
}

describe.skipIf(!canTieChildToParent())('chaos: the demo dies under an operator who keeps driving', () => {
  it('SIGKILL: the robot is still within the deadman time + 100 ms, no child process left after 2 s', async () => {
    const demo = await startDemo();
    expect(demo.children.map((c) => c.name)).toEqual(expect.arrayContaining(['python', 'ffmpeg']));
    await drive(demo);
    expect(await drivingSteadily(demo.trace), 'the operator drives the robot').toBe(true);

    const killedAt = monotonic();
    demo.proc.kill('SIGKILL');
    await until(() => demo.children.every((c) => !alive(c.pid)), 15_000);
    const goneAfter = monotonic() - killedAt;
    const left = demo.children.filter((c) => alive(c.pid));
    expect(left, `still running ${goneAfter.toFixed(2)} s after the kill`).toEqual([]);

    const records = readTrace(demo.trace);
    const deadman = deadmanSeconds(records);
    const stop = records.find((r) => r.event === 'stop' && r.mono >= killedAt);
    expect(stop, 'the sidecar noticed its parent die').toBeDefined();
    const still = stillFrom(records, killedAt);
    expect(still, 'the wheels stood still before the sidecar exited').toBeDefined();
    const late = lateness(records, killedAt - 2, still!.mono);
    expect(
      still!.mono - killedAt,
      `the machine ran the sidecar up to ${(late * 1000).toFixed(0)} ms late`,
    ).toBeLessThanOrEqual(deadman + 0.1 + late);
    expect(goneAfter, 'the children died with their parent').toBeLessThanOrEqual(2 + late);
    const exit = records.at(-1)!;
    expect(exit.event).toBe('exit');
    expect(exit.linear).toBeLessThan(STILL);
    console.info(
      `SIGKILL: the sidecar stopped the robot ${((stop!.mono - killedAt) * 1000).toFixed(0)} ms after the kill (${stop!.reason}); ` +
        `wheels still after ${((still!.mono - killedAt) * 1000).toFixed(0)} ms; all ${demo.children.length} children (${demo.children.map((c) => c.name).join(', ')}) gone after ${(goneAfter * 1000).toFixed(0)} ms`,
    );
  }, 180_000);

  it('SIGSTOP: the deadman stops the robot within its time + 100 ms; killed at last, no child left after 2 s', async () => {
    const demo = await startDemo();
    await drive(demo);
    expect(await drivingSteadily(demo.trace), 'the operator drives the robot').toBe(true);

    const stoppedAt = monotonic();
    demo.proc.kill('SIGSTOP');
    const sidecar = demo.children.find((c) => c.name === 'python')!;
    let records: TraceRecord[] = [];
    const deadman = deadmanSeconds(readTrace(demo.trace));
    // Watch for the trip, then a second more of the robot standing still.
    await until(
      () => {
        records = readTrace(demo.trace);
        const trip = records.find((r) => r.event === 'deadman' && r.mono >= stoppedAt);
        return trip !== undefined && records.at(-1)!.mono > trip.mono + 1;
      },
      (deadman + 10) * 1_000,
    );
    const trip = records.find((r) => r.event === 'deadman' && r.mono >= stoppedAt);
    expect(trip, 'the deadman tripped').toBeDefined();
    expect(trip!.reason).toBe('command');
    // The deadman counts from the last command the sidecar applied. Commands the gateway sent
    // before it stopped may still reach the sidecar a little later and act, within their deadline
    // (DEFAULT_TTL_MS after they were stamped, all before the stop), never after it.
    const lastCommand = trip!.mono - trip!.sinceCommandMs! / 1000;
    expect(lastCommand).toBeLessThan(stoppedAt + DEFAULT_TTL_MS / 1000);
    const still = stillFrom(records, lastCommand);
    expect(still, 'the wheels stood still').toBeDefined();
    const late = lateness(records, stoppedAt - 2, still!.mono);
    const why = `the machine ran the sidecar up to ${(late * 1000).toFixed(0)} ms late`;
    expect(still!.mono - lastCommand, why).toBeLessThanOrEqual(deadman + 0.1 + late);
    expect(still!.mono - stoppedAt, why).toBeLessThanOrEqual(deadman + DEFAULT_TTL_MS / 1000 + 0.1 + late);
    const after = records.filter((r) => r.event === 'state' && r.mono >= still!.mono);
    expect(Math.hypot(after.at(-1)!.x - still!.x, after.at(-1)!.y - still!.y)).toBeLessThan(0.02);
    // A hung gateway may come back: the sidecar waits, the robot stopped.
    expect(alive(sidecar.pid)).toBe(true);

    const killedAt = monotonic();
    demo.proc.kill('SIGKILL');
    await until(() => demo.children.every((c) => !alive(c.pid)), 15_000);
    const goneAfter = monotonic() - killedAt;
    expect(
      demo.children.filter((c) => alive(c.pid)),
      `still running ${goneAfter.toFixed(2)} s after the kill`,
    ).toEqual([]);
    expect(goneAfter, 'the children died with their parent').toBeLessThanOrEqual(2 + late);
    expect(readTrace(demo.trace).at(-1)!.event).toBe('exit');
    console.info(
      `SIGSTOP: last command applied ${((lastCommand - stoppedAt) * 1000).toFixed(0)} ms after SIGSTOP; deadman tripped ${trip!.sinceCommandMs!.toFixed(0)} ms after it; ` +
        `wheels still ${((still!.mono - lastCommand) * 1000).toFixed(0)} ms after the last command, ${((still!.mono - stoppedAt) * 1000).toFixed(0)} ms after SIGSTOP; children gone ${(goneAfter * 1000).toFixed(0)} ms after SIGKILL`,
    );
  }, 180_000);
});
