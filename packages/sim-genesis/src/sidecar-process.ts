// Starting the Python sidecar as a child of this process: which Python runs it, the private
// directory of its Unix socket, its command line and environment, the token it wants on its stdin,
// its "listening <address>" line, and its stderr relayed to the logger at the level it gave.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TTL_MS, type Logger, TelekitError } from '@telekit/core';
import { spawnChild } from '@telekit/core/node';
import { MAX_SOCKET_PATH } from './sidecar-wire.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Finds the Python to run: `$TELEKIT_PYTHON`, the nearest `.venv/bin/python` above this package or the cwd, or `python3`. */
export function findPython(): string {
  if (process.env.TELEKIT_PYTHON) return process.env.TELEKIT_PYTHON;
  for (const start of [process.cwd(), here]) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, '.venv', 'bin', 'python');
      if (existsSync(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return 'python3';
}

/** Makes the private directory for a sidecar's socket (mode 0700); whoever made it removes it. */
export function makeSocketDir(): string {
  return mkdtempSync(join(tmpdir(), 'telekit-sim-'));
}

/** The socket's path in `dir`, refused when it is longer than a Unix socket allows. */
export function socketPathIn(dir: string): string {
  const path = join(dir, 'sim.sock');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new TelekitError(
      'E_SIDECAR_START',
      `the socket path is ${Buffer.byteLength(path)} bytes, more than a Unix socket allows (${MAX_SOCKET_PATH}): point TMPDIR at a shorter directory`,
      { operation: 'start', context: { field: 'TMPDIR' } },
    );
  return path;
}

/** What {@link spawnSidecar} starts. */
export interface SidecarSpawn {
  python: string;
  backend: string;
  /** Where it listens, `unix:/path`. */
  listen: string;
  /** The per-run token, written on its stdin. */
  token: string;
  /** Its deadman, ms. */
  deadman: { commandMs: number; heartbeatMs: number };
  renderThreads: number | undefined;
  genesisCache: string;
  log: Logger;
}

/**
 * Starts a sidecar: the child at once, and the address it says it listens on once it says so (or
 * `E_SIDECAR_START`, with the last of its stderr, when it could not start or exited first).
 */
export function spawnSidecar(spec: SidecarSpawn): {
  /** The child; `undefined` only when it could not even be spawned (`listening` says why). */
  proc: ChildProcess | undefined;
  listening: Promise<string>;
} {
  const { python, backend, log } = spec;
  let proc: ChildProcess | undefined;
  const listening = new Promise<string>((resolveAddress, reject) => {
    // Tied to this process: whatever kills Node (even SIGKILL), the kernel sends the sidecar
    // SIGTERM, and it stops the robot on its way out. It also watches its stdin (this pipe) and
    // its parent by itself.
    const child = spawnChild(
      python,
      [
        '-m',
        'telekit_sim',
        '--backend',
        backend,
        '--listen',
        spec.listen,
        '--supervised',
        '--command-timeout-ms',
        String(spec.deadman.commandMs),
        '--heartbeat-timeout-ms',
        String(spec.deadman.heartbeatMs),
        '--default-ttl-ms',
        String(DEFAULT_TTL_MS),
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          MUJOCO_GL: process.env.MUJOCO_GL ?? 'osmesa',
          LP_NUM_THREADS: String(spec.renderThreads ?? process.env.LP_NUM_THREADS ?? 1),
          TELEKIT_GENESIS_CACHE: spec.genesisCache,
          PYTHONUNBUFFERED: '1',
        },
        parentDeathSignal: 'SIGTERM',
      },
    );
    proc = child;
    // The token travels on the pipe, which stays open: its end tells the sidecar this process is gone.
    child.stdin?.on('error', () => undefined);
    child.stdin?.write(`${spec.token}\n`);
    let said = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!said && line.startsWith('listening ')) {
        said = true;
        resolveAddress(line.slice('listening '.length));
      }
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
      const [level, ...rest] = line.split(' ');
      const text = rest.join(' ');
      if (level === 'error') log.error(text, { sidecar: backend });
      else if (level === 'warn' || level === 'warning') log.warn(text, { sidecar: backend });
      else if (level === 'info' || level === 'debug') log.info(text, { sidecar: backend });
      else log.warn(line, { sidecar: backend });
    });
    child.once('error', (error) =>
      reject(
        new TelekitError('E_SIDECAR_START', `could not start ${python}: ${error.message}`, {
          operation: 'start',
          context: { python },
        }),
      ),
    );
    child.once('exit', (code, signal) => {
      if (!said) {
        reject(
          new TelekitError(
            'E_SIDECAR_START',
            `the sidecar exited before listening (${signal ?? `code ${code}`}): ${stderr.slice(-3).join(' | ')}`,
            {
              operation: 'start',
              context: { python, backend },
            },
          ),
        );
      }
    });
  });
  return { proc, listening };
}
