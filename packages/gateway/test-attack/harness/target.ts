/**
 * The gateway under attack as a child process (fixtures/target.ts): started, watched, asked about its
 * robot and memory, and restarted when an attack has killed it, so that one crash does not hide the
 * verdict on every later case. Everything it prints is kept, to search for leaked secrets.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Profile } from '../config.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/target.ts', import.meta.url));

/** What the robot behind the gateway received. */
export interface RobotRecord {
  twists: { sender: string; seq: number; stamp: number; x: number; at: number }[];
  estops: { sender: string; seq: number; engage: boolean; at: number }[];
}

/** How a target process ended. */
export interface Death {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines it printed. */
  tail: string;
}

/** A running gateway under attack. */
export interface Target {
  readonly profile: Profile;
  /** `http://127.0.0.1:<port>` of the current process. */
  readonly url: string;
  /** `127.0.0.1:<port>`, the Host header a same-origin browser would send. */
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** True while the current process runs. */
  readonly alive: boolean;
  /** Every process of this target that died (by an attack, not by {@link close}). */
  readonly deaths: readonly Death[];
  /** Everything every process of this target printed, stdout and stderr. */
  output(): string;
  robot(): Promise<RobotRecord>;
  memory(): Promise<NodeJS.MemoryUsage>;
  /** Makes the app publish `bytesPerSecond` of diagnostics telemetry (0 stops it). */
  load(bytesPerSecond: number): Promise<void>;
  /** Starts a fresh process if the current one died. */
  ensure(): Promise<void>;
  close(): Promise<void>;
}

interface Process {
  child: ChildProcess;
  url: string;
  pid: number;
  exited: boolean;
  ask(cmd: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Starts the gateway of `profile` in a child process and waits until it listens. */
export async function startTarget(
  profile: Profile = 'default',
  options: { logLevel?: 'debug' | 'info' | 'warn' | 'error' } = {},
): Promise<Target> {
  let output = '';
  const deaths: Death[] = [];
  let closing = false;

  const launch = async (): Promise<Process> => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, profile], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'production', TARGET_LOG_LEVEL: options.logLevel ?? 'debug' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const waiting = new Map<number, (v: Record<string, unknown>) => void>();
    let nextId = 1;
    const proc: Process = {
      child,
      url: '',
      pid: child.pid ?? -1,
      exited: false,
      ask(cmd, params = {}) {
        if (proc.exited) return Promise.reject(new Error(`target process ${proc.pid} has exited`));
        const id = nextId++;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            waiting.delete(id);
            reject(new Error(`target process ${proc.pid} did not answer ${cmd} within 20 s`));
          }, 20_000);
          waiting.set(id, (v) => {
            clearTimeout(timer);
            resolve(v);
          });
          child.stdin!.write(`${JSON.stringify({ ...params, id, cmd })}\n`);
        });
      },
    };
    child.stdin!.on('error', () => {});
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('@@target ')) {
          output += `${line}\n`;
          return;
        }
        const v = JSON.parse(line.slice(9)) as Record<string, unknown>;
        if (typeof v.url === 'string') {
          proc.url = v.url;
          resolve();
        } else if (typeof v.id === 'number') waiting.get(v.id)?.(v);
      });
      child.once('exit', (code, signal) => {
        proc.exited = true;
        if (!closing) deaths.push({ code, signal, tail: output.split('\n').slice(-30).join('\n') });
        reject(
          new Error(`target process exited before listening (${code ?? signal})\n${output.slice(-3000)}`),
        );
      });
    });
    await ready;
    return proc;
  };

  let current = await launch();
  const target: Target = {
    profile,
    get url() {
      return current.url;
    },
    get host() {
      return new URL(current.url).host;
    },
    get port() {
      return Number(new URL(current.url).port);
    },
    get pid() {
      return current.pid;
    },
    get alive() {
      return !current.exited;
    },
    deaths,
    output: () => output,
    robot: async () => (await current.ask('robot')) as unknown as RobotRecord,
    memory: async () => (await current.ask('mem')).memory as NodeJS.MemoryUsage,
    load: async (bytesPerSecond) => {
      await current.ask('load', { bytesPerSecond });
    },
    async ensure() {
      if (current.exited) current = await launch();
    },
    async close() {
      closing = true;
      if (current.exited) return;
      const gone = new Promise((r) => current.child.once('exit', r));
      current.child.kill('SIGTERM');
      const timer = setTimeout(() => current.child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
  return target;
}
