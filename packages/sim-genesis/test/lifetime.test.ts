import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { canTieChildToParent, spawnChild } from '@telekit/core/node';
import { afterEach, describe, expect, it } from 'vitest';
import { findPython } from '../src/index.js';
import { alive, monotonic, readTrace, sleep, startSidecar, type TraceRecord, until } from './helpers.js';

// The sidecar dies with its supervisor, whatever kills it, and stops the robot first; a hung
// supervisor is covered by the deadman. Watched from the simulation itself: the sidecar's trace
// (TELEKIT_SIM_TRACE), one line per state at 100 Hz, with CLOCK_MONOTONIC times.

const COMMAND_MS = 500;
/** Odometry speed below which the wheels drive the base no more, m/s. */
const STILL = 0.02;
const here = fileURLToPath(new URL('.', import.meta.url));
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function traceFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-drill-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'trace.jsonl');
}

/** Starts the drill supervisor (a Node process driving the robot through sidecarSimulator); resolves with the sidecar's pid. */
async function drill(trace: string): Promise<{ parent: ChildProcess; sidecar: number }> {
  // Tied to this test process (a test that times out leaves no drill behind); killing it is the drill.
  const parent = spawnChild(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'fixtures', 'drill-supervisor.ts')],
    {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TELEKIT_SIM_TRACE: trace, DRILL_COMMAND_MS: String(COMMAND_MS) },
      parentDeathSignal: 'SIGKILL',
    },
  );
  cleanup.push(() => {
    if (parent.exitCode === null && parent.signalCode === null) {
      parent.kill('SIGCONT');
      parent.kill('SIGKILL');
    }
  });
  const sidecar = await new Promise<number>((resolve, reject) => {
    createInterface({ input: parent.stdout! }).on('line', (line) => {
      if (line.startsWith('sidecar ')) resolve(Number(line.slice('sidecar '.length)));
    });
    parent.once('exit', (code, signal) =>
      reject(new Error(`the drill supervisor exited (${signal ?? code})`)),
    );
  });
  cleanup.push(() => {
    if (alive(sidecar)) process.kill(sidecar, 'SIGKILL');
  });
  return { parent, sidecar };
}

const driving = (trace: string) => readTrace(trace).some((r) => r.event === 'state' && r.linear > 0.3);

/** The first record from which on (to the end of the trace) the wheels stand still. */
function stillFrom(records: TraceRecord[], after: number): TraceRecord | undefined {
  const later = records.filter((r) => r.mono >= after);
  let moving = -1;
  for (const [i, r] of later.entries()) if (r.linear >= STILL) moving = i;
  return later[moving + 1];
}

describe.skipIf(!canTieChildToParent())('the sidecar and its supervisor', () => {
  it('SIGKILL of the supervisor: the sidecar stops the robot at once and exits within 2 s', async () => {
    const trace = traceFile();
    const { parent, sidecar } = await drill(trace);
    expect(await until(() => driving(trace), 15_000)).toBe(true);
    await sleep(500);
    const killedAt = monotonic();
    parent.kill('SIGKILL');
    expect(await until(() => !alive(sidecar), 2_000)).toBe(true);
    const records = readTrace(trace);
    const stop = records.find((r) => r.event === 'stop');
    expect(stop, 'the sidecar traced its stop').toBeDefined();
    expect(stop!.mono - killedAt).toBeLessThan(COMMAND_MS / 1000 + 0.1);
    const still = stillFrom(records, killedAt);
    expect(still, 'the wheels stood still before the sidecar exited').toBeDefined();
    expect(still!.mono - killedAt).toBeLessThanOrEqual(COMMAND_MS / 1000 + 0.1);
    const exit = records.at(-1)!;
    expect(exit.event).toBe('exit');
    expect(exit.linear).toBeLessThan(STILL);
    expect(exit.mono - killedAt).toBeLessThan(2);
  }, 60_000);

  it('a hung supervisor (SIGSTOP): the deadman stops the robot; killed at last, the sidecar exits', async () => {
    const trace = traceFile();
    const { parent, sidecar } = await drill(trace);
    expect(await until(() => driving(trace), 15_000)).toBe(true);
    await sleep(500);
    const stoppedAt = monotonic();
    parent.kill('SIGSTOP');
    await sleep(COMMAND_MS + 1_000);
    const records = readTrace(trace);
    const trip = records.find((r) => r.event === 'deadman' && r.mono > stoppedAt);
    expect(trip?.reason).toBe('command');
    expect(trip!.mono - stoppedAt).toBeLessThanOrEqual(COMMAND_MS / 1000 + 0.1);
    const still = stillFrom(records, stoppedAt);
    expect(still).toBeDefined();
    expect(still!.mono - stoppedAt).toBeLessThanOrEqual(COMMAND_MS / 1000 + 0.1);
    // Still standing where it stopped, the sidecar still running (a hung supervisor may come back).
    const after = records.filter((r) => r.mono >= still!.mono);
    expect(Math.hypot(after.at(-1)!.x - still!.x, after.at(-1)!.y - still!.y)).toBeLessThan(0.02);
    expect(alive(sidecar)).toBe(true);
    const killedAt = monotonic();
    parent.kill('SIGKILL');
    expect(await until(() => !alive(sidecar), 2_000)).toBe(true);
    expect(readTrace(trace).at(-1)!.mono - killedAt).toBeLessThan(2);
  }, 60_000);
});

describe('the sidecar watches its parent by itself', () => {
  it('a new parent process (the old one died, no parent-death signal set): it stops the robot and exits', async () => {
    const trace = traceFile();
    // An intermediate parent (Python, which sets no parent-death signal) starts the sidecar and
    // waits. The sidecar's stdin is a FIFO this test holds open, so that only its parent's death can
    // tell it (Node closes a child's stdin pipe when that child exits).
    const dir = mkdtempSync(join(tmpdir(), 'telekit-sim-test-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'stdin');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const held = openSync(fifo, 'r+'); // read-write: opening does not wait for a reader
    cleanup.push(() => closeSync(held));
    writeSync(held, '\n'); // no token: a private socket
    const parent = spawn(
      findPython(),
      [
        '-c',
        'import subprocess, sys; sys.exit(subprocess.call(sys.argv[2:], stdin=open(sys.argv[1], "rb")))',
        fifo,
        findPython(),
        '-m',
        'telekit_sim',
        '--listen',
        `unix:${join(dir, 'sim.sock')}`,
        '--supervised',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TELEKIT_SIM_TRACE: trace } },
    );
    cleanup.push(() => parent.kill('SIGKILL'));
    await new Promise<void>((resolve) =>
      createInterface({ input: parent.stdout! }).on('line', (l) => l.startsWith('listening') && resolve()),
    );
    const pids = execFileSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    const sidecar = pids[0]!;
    cleanup.push(() => alive(sidecar) && process.kill(sidecar, 'SIGKILL'));
    expect(alive(sidecar)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !alive(sidecar), 2_000)).toBe(true);
    expect(readTrace(trace).find((r) => r.event === 'stop')?.reason).toMatch(/^parent process \d+ is gone$/);
  }, 30_000);

  it("the end of the supervisor's pipe: it stops the robot and exits", async () => {
    const trace = traceFile();
    const side = await startSidecar({
      args: ['--supervised'],
      stdinLine: '',
      env: { TELEKIT_SIM_TRACE: trace },
    });
    cleanup.push(() => void side.close());
    const c = await side.connect();
    await c.request('load_scene', { scene: { id: 'diff-drive' } });
    await c.request('run', { state_hz: 100 });
    await c.request('act', { action: { kind: 'twist', linear: { x: 0.5 }, angular: { z: 0 } } });
    expect(await until(() => driving(trace), 10_000)).toBe(true);
    const closedAt = monotonic();
    side.proc.stdin!.end();
    expect(await until(() => !alive(side.proc.pid!), 2_000)).toBe(true);
    const records = readTrace(trace);
    expect(records.find((r) => r.event === 'stop')?.reason).toBe("the supervisor's pipe closed");
    expect(stillFrom(records, closedAt)!.mono - closedAt).toBeLessThan(0.2);
    expect(records.at(-1)!.event).toBe('exit');
    c.close();
  }, 30_000);
});
