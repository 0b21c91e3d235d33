import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  consoleLogger,
  type Frame,
  type Header,
  type HealthReport,
  type Logger,
  type Quaternion,
  type SceneInfo,
  type SceneSpec,
  type SimAction,
  type SimActuation,
  type SimSnapshot,
  type Simulator,
  type SimulatorCapabilities,
  type SimulatorState,
  TelekitError,
} from '@telekit/core';
import { BehaviorSubject, Observable, Subject, type Subscription, share } from 'rxjs';
import { SIDECAR_PROTOCOL, SidecarConnection, type SidecarEvent } from './sidecar-connection.js';

/** Which physics engine the sidecar runs. */
export type Backend = 'mujoco' | 'genesis';

/** Options of {@link sidecarSimulator}. */
export interface SidecarSimulatorOptions {
  /** Default `mujoco` (CPU); `genesis` on a GPU host. */
  backend?: Backend;
  /** Use a sidecar already running elsewhere (`host:port` or `unix:/path`) instead of starting one. */
  connect?: string;
  /** The Python that has `telekit_sim` installed. Default: `$TELEKIT_PYTHON`, else the nearest `.venv`, else `python3`. */
  python?: string;
  logger?: Logger;
  /** Restart backoff after a crash or hang, ms. Defaults 250 → 5 000, doubling. */
  restartDelayMs?: { initial: number; max: number };
  /** How often to check the sidecar is alive, and how long it may take to answer, ms. Defaults 1 000 and 3 000. */
  heartbeat?: { everyMs: number; timeoutMs: number };
  /** How often to keep a snapshot for restoring after a restart, ms. Default 1 000. */
  snapshotEveryMs?: number;
  /** How long one request may take, ms. Default 30 000 (loading a scene on Genesis compiles kernels). */
  requestTimeoutMs?: number;
  /** Default camera for `frames$`. */
  camera?: CameraOptions;
}

/** A camera stream. */
export interface CameraOptions {
  /** A camera named in the scene; default: the free camera. */
  camera?: string;
  width?: number;
  height?: number;
  fps?: number;
  /**
   * Where frames go: `events` (default: over the sidecar connection into `frames$`) or
   * `tcp:host:port`, raw RGBA written straight to an encoder listening there, never through Node.
   */
  sink?: string;
  /** Draw the render time into the picture (top-left, `stampFrame`'s layout) for glass-to-glass latency. Default true. */
  stamp?: boolean;
}

/** The sidecar's health, as `health()` reports it. */
export interface SidecarHealth extends HealthReport {
  readonly data: {
    restarts: number;
    backend: Backend;
    engine: string | undefined;
    address: string | undefined;
    realtimeFactor: number;
  };
}

/** The core `Simulator`, plus what a real-time server simulator adds. */
export interface SidecarSimulator extends Simulator {
  /** Steps in real time in the sidecar, sending state at `stateHz`. */
  run(options?: { stateHz?: number }): Promise<void>;
  pause(): Promise<void>;
  /** Starts (or with `enabled: false` stops) the camera. */
  camera(options: CameraOptions & { enabled?: boolean }): Promise<void>;
  health(): SidecarHealth;
  /** Restarts so far. */
  readonly restarts: number;
  /** The engine, e.g. `mujoco 3.14.0`, once connected. */
  readonly engine: string | undefined;
  /** The sidecar process (when this simulator started it), for tests and drills. */
  readonly process: ChildProcess | undefined;
}

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

const quat = (q: readonly number[]): Quaternion => ({
  w: q[0] ?? 1,
  x: q[1] ?? 0,
  y: q[2] ?? 0,
  z: q[3] ?? 0,
});
const vec = (v: readonly number[]) => ({ x: v[0] ?? 0, y: v[1] ?? 0, z: v[2] ?? 0 });

interface WireState {
  scene: string;
  time: number;
  step: number;
  realtimeFactor: number;
  bodies: { name: string; position: number[]; orientation: number[] }[];
  joints: { name: string[]; position: number[]; velocity: number[] };
  base: { position: number[]; orientation: number[]; linear: number[]; angular: number[] } | null;
  imu: { orientation: number[]; angularVelocity: number[]; linearAcceleration: number[] } | null;
  contacts: number;
}

/** State as the sidecar sends it, plus the extras the plugin maps to telemetry. */
export interface SidecarState extends SimulatorState {
  readonly realtimeFactor: number;
  readonly contacts: number;
  readonly imu?: {
    orientation: Quaternion;
    angularVelocity: { x: number; y: number; z: number };
    linearAcceleration: { x: number; y: number; z: number };
  };
}

function toState(w: WireState): SidecarState {
  return {
    scene: w.scene,
    time: w.time,
    step: w.step,
    realtimeFactor: w.realtimeFactor,
    contacts: w.contacts,
    bodies: w.bodies.map((b) => ({
      name: b.name,
      position: vec(b.position),
      orientation: quat(b.orientation),
    })),
    joints: w.joints,
    ...(w.base
      ? {
          base: {
            position: vec(w.base.position),
            orientation: quat(w.base.orientation),
            linear: vec(w.base.linear),
            angular: vec(w.base.angular),
          },
        }
      : {}),
    ...(w.imu
      ? {
          imu: {
            orientation: quat(w.imu.orientation),
            angularVelocity: vec(w.imu.angularVelocity),
            linearAcceleration: vec(w.imu.linearAcceleration),
          },
        }
      : {}),
  };
}

/**
 * The server simulator: a Python sidecar (started here, or already running elsewhere) behind the
 * core `Simulator` contract, supervised — a crashed or hung sidecar is restarted with backoff, its
 * scene reloaded and its last snapshot restored.
 *
 * @example
 * ```ts
 * import { sidecarSimulator } from '@telekit/sim-genesis';
 * const sim = sidecarSimulator({ backend: 'mujoco' });
 * await sim.loadScene({ id: 'diff-drive' });
 * sim.act({ kind: 'twist', linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
 * console.log((await sim.step(200)).base?.position);
 * await sim.close();
 * ```
 */
export function sidecarSimulator(options: SidecarSimulatorOptions = {}): SidecarSimulator {
  const backend = options.backend ?? 'mujoco';
  const log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/sim-genesis' } });
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const heartbeat = options.heartbeat ?? { everyMs: 1_000, timeoutMs: 3_000 };
  const delays = options.restartDelayMs ?? { initial: 250, max: 5_000 };
  const state$ = new Subject<SidecarState>();
  const actuations$ = new Subject<SimActuation>();
  const frames = new Subject<Frame>();
  const status = new BehaviorSubject<'starting' | 'ready' | 'restarting' | 'closed'>('starting');

  let conn: SidecarConnection | undefined;
  let child: ChildProcess | undefined;
  let address: string | undefined;
  let engine: string | undefined;
  let backendCapabilities: SimulatorCapabilities = { base: true, joints: true, camera: true, snapshot: true };
  let capabilities = backendCapabilities;
  let scene: SceneSpec | undefined;
  let lastSnapshot: SimSnapshot | undefined;
  let running: { stateHz: number } | undefined;
  let cameraConfig: (CameraOptions & { explicit: boolean }) | undefined;
  let restarts = 0;
  let loading = 0;
  let closed = false;
  let realtimeFactor = 0;
  let ready: Promise<void>;
  let eventsSub: Subscription | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];

  const onEvent = (e: SidecarEvent) => {
    switch (e.event) {
      case 'state': {
        const s = toState((e as unknown as { state: WireState }).state);
        realtimeFactor = s.realtimeFactor;
        state$.next(s);
        break;
      }
      case 'frame': {
        const data = e.data as Uint8Array;
        frames.next({
          width: e.width as number,
          height: e.height as number,
          format: 'rgba',
          timestamp: e.timestamp as number,
          seq: e.seq as number,
          data,
        });
        break;
      }
      case 'actuation':
        actuations$.next({
          command: e.command as Header,
          fate: 'applied',
          at: e.at as number,
          simTime: e.simTime as number,
        });
        break;
      default:
        break;
    }
  };

  const startProcess = () =>
    new Promise<string>((resolveAddress, reject) => {
      const python = options.python ?? findPython();
      const proc = spawn(python, ['-m', 'telekit_sim', '--backend', backend, '--listen', '127.0.0.1:0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MUJOCO_GL: process.env.MUJOCO_GL ?? 'osmesa', PYTHONUNBUFFERED: '1' },
      });
      child = proc;
      let said = false;
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (!said && line.startsWith('listening ')) {
          said = true;
          resolveAddress(line.slice('listening '.length));
        }
      });
      const stderr: string[] = [];
      createInterface({ input: proc.stderr! }).on('line', (line) => {
        stderr.push(line);
        if (stderr.length > 20) stderr.shift();
        const [level, ...rest] = line.split(' ');
        const text = rest.join(' ');
        if (level === 'error') log.error(text, { sidecar: backend });
        else if (level === 'warn' || level === 'warning') log.warn(text, { sidecar: backend });
        else if (level === 'info' || level === 'debug') log.info(text, { sidecar: backend });
        else log.warn(line, { sidecar: backend });
      });
      proc.once('error', (error) =>
        reject(
          new TelekitError('E_SIDECAR_START', `could not start ${python}: ${error.message}`, {
            operation: 'start',
            context: { python },
          }),
        ),
      );
      proc.once('exit', (code, signal) => {
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

  /** Starts (or reconnects to) the sidecar and brings it back to where it was. */
  const bringUp = async () => {
    address = options.connect ?? (await startProcess());
    const c = await SidecarConnection.connect(address);
    conn = c;
    eventsSub?.unsubscribe();
    eventsSub = c.events$.subscribe(onEvent);
    const hello = await c.request<{ protocol: number; engine: string; capabilities: SimulatorCapabilities }>(
      'hello',
      {},
      requestTimeout,
    );
    if (hello.protocol !== SIDECAR_PROTOCOL) {
      throw new TelekitError(
        'E_SIDECAR_PROTOCOL',
        `sidecar speaks protocol ${hello.protocol}, this plugin ${SIDECAR_PROTOCOL}`,
      );
    }
    engine = hello.engine;
    backendCapabilities = hello.capabilities;
    if (scene) await c.request('load_scene', { scene }, requestTimeout);
    if (lastSnapshot) await c.request('restore', { snapshot: lastSnapshot }, requestTimeout);
    if (cameraConfig) await c.request('camera', { enabled: true, ...cameraConfig }, requestTimeout);
    if (running) await c.request('run', { state_hz: running.stateHz }, requestTimeout);
    void c.closed.then(() => {
      if (!closed && conn === c) void restart('the sidecar connection closed');
    });
    status.next('ready');
  };

  let restarting: Promise<void> | undefined;
  const restart = (why: string): Promise<void> => {
    if (closed) return Promise.resolve();
    if (restarting) return restarting;
    status.next('restarting');
    log.warn('sidecar lost; restarting', { reason: why, restarts });
    restarting = (async () => {
      conn?.close();
      if (child && child.exitCode === null) child.kill('SIGKILL');
      let delay = delays.initial;
      for (;;) {
        if (closed) return;
        await new Promise((r) => setTimeout(r, delay));
        try {
          await bringUp();
          restarts++;
          log.info('sidecar restarted and restored', { restarts, time: lastSnapshot?.time });
          return;
        } catch (error) {
          log.error('sidecar restart failed', {
            error: String(error),
            nextInMs: Math.min(delay * 2, delays.max),
          });
          delay = Math.min(delay * 2, delays.max);
        }
      }
    })().finally(() => {
      restarting = undefined;
    });
    ready = restarting;
    return restarting;
  };

  ready = bringUp();
  ready.catch(() => undefined);

  // Heartbeat: a sidecar that stops answering is as good as dead.
  timers.push(
    setInterval(() => {
      // A scene load may block the sidecar for minutes (Genesis compiles its kernels): not a hang.
      if (status.value !== 'ready' || !conn || loading > 0) return;
      conn.request('ping', {}, heartbeat.timeoutMs).catch((error: unknown) => {
        if (status.value === 'ready') void restart(`no answer to ping: ${String(error)}`);
      });
    }, heartbeat.everyMs),
  );
  // Keep a recent snapshot to restore after a restart.
  timers.push(
    setInterval(() => {
      if (status.value !== 'ready' || !conn || !scene || !capabilities.snapshot) return;
      conn
        .request<{ snapshot: SimSnapshot }>('snapshot', {}, heartbeat.timeoutMs)
        .then((r) => {
          lastSnapshot = r.snapshot;
        })
        .catch(() => undefined);
    }, options.snapshotEveryMs ?? 1_000),
  );
  for (const t of timers) t.unref();

  const call = async <T extends Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
  ): Promise<T> => {
    if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: op });
    await ready;
    try {
      return await conn!.request<T>(op, args, requestTimeout);
    } catch (error) {
      // The sidecar died under this request: wait for it to come back, then try once more.
      if (closed || !(error instanceof TelekitError) || error.code !== 'E_SIDECAR_GONE') throw error;
      await restart(error.message);
      return conn!.request<T>(op, args, requestTimeout);
    }
  };

  let watchers = 0;
  const frames$ = new Observable<Frame>((subscriber) => {
    watchers++;
    const sub = frames.subscribe(subscriber);
    if (watchers === 1 && !cameraConfig) {
      cameraConfig = { ...(options.camera ?? { width: 320, height: 240, fps: 30 }), explicit: false };
      void call('camera', { enabled: true, ...cameraConfig }).catch((error: unknown) =>
        subscriber.error(error),
      );
    }
    return () => {
      sub.unsubscribe();
      watchers--;
      if (watchers === 0 && cameraConfig && !cameraConfig.explicit && !closed) {
        cameraConfig = undefined;
        void call('camera', { enabled: false }).catch(() => undefined);
      }
    };
  }).pipe(share());

  const sim: SidecarSimulator = {
    name: `sidecar-${backend}`,
    get capabilities() {
      return capabilities;
    },
    get restarts() {
      return restarts;
    },
    get engine() {
      return engine;
    },
    get process() {
      return child;
    },
    async loadScene(spec) {
      loading++;
      const r = await call<{ scene: SceneInfo }>('load_scene', { scene: spec }).finally(() => loading--);
      scene = spec;
      // What the sidecar can do, narrowed to what this scene has.
      capabilities = {
        ...backendCapabilities,
        base: backendCapabilities.base && r.scene.hasBase,
        joints: backendCapabilities.joints && r.scene.joints.length > 0,
      };
      lastSnapshot = undefined;
      return r.scene;
    },
    async reset() {
      await call('reset');
      lastSnapshot = undefined;
    },
    async step(n = 1) {
      const r = await call<{ state: WireState }>('step', { n });
      const s = toState(r.state);
      state$.next(s);
      return s;
    },
    act(action: SimAction, command?: Header) {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'act' });
      // Fire and forget on the hot path; a refusal is logged with its reason.
      void call('act', { action, ...(command ? { command } : {}) }).catch((error: unknown) =>
        log.warn('action refused', {
          kind: action.kind,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    },
    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$,
    async snapshot() {
      const r = await call<{ snapshot: SimSnapshot & { data: Uint8Array } }>('snapshot');
      return { ...r.snapshot, data: new Uint8Array(r.snapshot.data) };
    },
    async restore(snapshot) {
      await call('restore', { snapshot });
      lastSnapshot = snapshot;
    },
    async run(opts = {}) {
      running = { stateHz: opts.stateHz ?? 50 };
      await call('run', { state_hz: running.stateHz });
    },
    async pause() {
      running = undefined;
      await call('pause');
    },
    async camera(opts) {
      if (opts.enabled === false) {
        cameraConfig = undefined;
        await call('camera', { enabled: false });
        return;
      }
      const { enabled: _, ...rest } = opts;
      cameraConfig = { ...rest, explicit: true };
      await call('camera', { enabled: true, ...rest });
    },
    health() {
      const s = status.value;
      return {
        status: s === 'ready' ? 'ok' : s === 'closed' ? 'down' : 'degraded',
        detail: s === 'ready' ? `${engine} at ${address}` : s,
        data: { restarts, backend, engine, address, realtimeFactor },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      status.next('closed');
      for (const t of timers) clearInterval(t);
      if (conn && !conn.isClosed && !options.connect)
        await conn.request('shutdown', {}, 2_000).catch(() => undefined);
      conn?.close();
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        const kill = setTimeout(() => child?.kill('SIGKILL'), 2_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(kill);
      }
      eventsSub?.unsubscribe();
      state$.complete();
      actuations$.complete();
      frames.complete();
      status.complete();
    },
  };
  return sim;
}
