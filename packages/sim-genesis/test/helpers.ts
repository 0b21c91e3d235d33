import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnChild } from '@telekit/core/node';
import { findPython, SidecarConnection } from '../src/index.js';

/** A sidecar started by hand (not through `sidecarSimulator`), for the tests of its own surface and lifetime. */
export interface HandSidecar {
  readonly proc: ChildProcess;
  readonly address: string;
  readonly dir: string;
  /** Everything it wrote on stderr so far. */
  readonly stderr: string[];
  /** Connects and, when given a token, says hello with it (and Node's time). */
  connect(token?: string): Promise<SidecarConnection>;
  /** Kills it if still alive and removes its directory. */
  close(): Promise<void>;
}

/** One line of the sidecar's trace (`TELEKIT_SIM_TRACE`). */
export interface TraceRecord {
  event: 'start' | 'state' | 'deadman' | 'stop' | 'exit';
  /** CLOCK_MONOTONIC, s (Node: `process.hrtime`). */
  mono: number;
  sim: number;
  pid: number;
  linear: number;
  angular: number;
  joint: number;
  travel: number;
  x: number;
  y: number;
  reason?: string;
  /** On `start`: the deadman's limits, ms. */
  commandMs?: number;
  heartbeatMs?: number;
  /** On `deadman`: how long since the last command was applied, ms. */
  sinceCommandMs?: number;
}

/** Now on CLOCK_MONOTONIC, s: the clock of the sidecar's trace. */
export const monotonic = () => Number(process.hrtime.bigint()) / 1e9;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean, ms: number, every = 20): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(every);
  }
  return check();
}

/** Running (a zombie waiting for its reaper counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function readTrace(path: string): TraceRecord[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TraceRecord];
      } catch {
        return []; // a line being written
      }
    });
}

export const stamp = () => performance.timeOrigin + performance.now();

/**
 * Starts `python -m telekit_sim` with `args` (a Unix socket in a fresh directory unless `--listen`
 * is given). `stdinLine`, when given, is written on its stdin (the token of `--supervised`), which
 * then stays open until `proc.stdin.end()`.
 */
export async function startSidecar(
  options: { args?: string[]; env?: Record<string, string>; stdinLine?: string; listen?: string } = {},
): Promise<HandSidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'telekit-sim-test-'));
  const listen = options.listen ?? `unix:${join(dir, 'sim.sock')}`;
  // Tied to the test process: a test that times out leaves no sidecar behind.
  const proc = spawnChild(findPython(), ['-m', 'telekit_sim', '--listen', listen, ...(options.args ?? [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, MUJOCO_GL: process.env.MUJOCO_GL ?? 'osmesa', ...options.env },
    parentDeathSignal: 'SIGKILL',
  });
  proc.stdin!.on('error', () => undefined);
  if (options.stdinLine !== undefined) proc.stdin!.write(`${options.stdinLine}\n`);
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
    });
    proc.once('exit', (code, signal) =>
      reject(new Error(`sidecar exited before listening (${signal ?? code}): ${stderr.join(' | ')}`)),
    );
  });
  return {
    proc,
    address,
    dir,
    stderr,
    async connect(token?: string) {
      const c = await SidecarConnection.connect(address);
      if (token !== undefined) await c.request('hello', { token, time: stamp() });
      return c;
    },
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
