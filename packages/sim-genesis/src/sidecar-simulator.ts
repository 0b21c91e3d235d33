import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { consoleLogger, DEFAULT_TTL_MS, type Header, systemClock, TelekitError } from '@telekit/core';
import type {
  Frame,
  SceneInfo,
  SceneSpec,
  SimAction,
  SimSnapshot,
  SimulatorCapabilities,
} from '@telekit/core/contracts';
import { Backoff, spawnChild } from '@telekit/core/node';
import type { CommandFate, SimScene } from '@telekit/core/schemas';
import { BehaviorSubject, Observable, Subject, type Subscription, share } from 'rxjs';
import { SIDECAR_PROTOCOL, SidecarConnection, type SidecarEvent } from './sidecar-connection.js';
import { SidecarPerfMeter, type WirePerf } from './sidecar-perf.js';
import type {
  CameraOptions,
  SidecarActuation,
  SidecarProgress,
  SidecarSimulator,
  SidecarSimulatorOptions,
  SidecarState,
  SidecarStats,
} from './sidecar-types.js';
import {
  cpuTicks,
  FATES,
  KINDS,
  LOCK_FREE,
  MAX_SOCKET_PATH,
  toState,
  type WireState,
} from './sidecar-wire.js';

export type {
  Backend,
  CameraOptions,
  DeadmanOptions,
  SidecarActuation,
  SidecarHealth,
  SidecarProgress,
  SidecarSimulator,
  SidecarSimulatorOptions,
  SidecarState,
  SidecarStats,
} from './sidecar-types.js';

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

/**
 * The server simulator: a Python sidecar (started here, or already running elsewhere) behind the
 * core `Simulator` contract, supervised — a crashed or hung sidecar is restarted with backoff, its
 * scene reloaded and its last snapshot restored.
 *
 * A sidecar it starts listens on a Unix socket (mode 0600) in a private directory that this
 * simulator makes and removes, wants a per-run token (written on its stdin, never on its command
 * line), dies with this process (`spawnChild`, SIGTERM on the parent's death, and its own watch of
 * the parent), and stops the robot by itself when commands or pings go quiet (`deadman`).
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
  const clock = options.clock ?? systemClock;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const heartbeat = options.heartbeat ?? { everyMs: 250, timeoutMs: 3_000 };
  const deadman = {
    commandMs: options.deadman?.commandMs ?? 500,
    heartbeatMs: options.deadman?.heartbeatMs ?? Math.max(1_000, 4 * heartbeat.everyMs),
  };
  for (const [field, value] of Object.entries({
    'heartbeat.everyMs': heartbeat.everyMs,
    'heartbeat.timeoutMs': heartbeat.timeoutMs,
    'deadman.commandMs': deadman.commandMs,
    'deadman.heartbeatMs': deadman.heartbeatMs,
  })) {
    if (!(Number.isFinite(value) && value > 0))
      throw new TelekitError('E_VALIDATION', `${field} must be a positive number of ms`, {
        operation: 'sidecarSimulator',
        context: { field, value },
      });
  }
  if (deadman.heartbeatMs <= heartbeat.everyMs)
    throw new TelekitError('E_VALIDATION', 'deadman.heartbeatMs must be longer than heartbeat.everyMs', {
      operation: 'sidecarSimulator',
      context: { field: 'deadman.heartbeatMs', heartbeatMs: deadman.heartbeatMs, everyMs: heartbeat.everyMs },
    });
  const delays = options.restartDelayMs ?? { initial: 250, max: 5_000 };
  const state$ = new Subject<SidecarState>();
  const actuations$ = new Subject<SidecarActuation>();
  const frames = new Subject<Frame>();
  const status = new BehaviorSubject<'starting' | 'ready' | 'restarting' | 'closed'>('starting');
  const progress$ = new Subject<SidecarProgress>();
  const warmupIdleMs = options.warmup?.idleMs ?? 600_000;
  if (!(Number.isFinite(warmupIdleMs) && warmupIdleMs > 0))
    throw new TelekitError('E_VALIDATION', 'warmup.idleMs must be a positive number of ms', {
      operation: 'sidecarSimulator',
      context: { field: 'warmup.idleMs', value: warmupIdleMs },
    });
  const genesisCache =
    options.genesisCache ?? process.env.TELEKIT_GENESIS_CACHE ?? resolve('.cache', 'telekit', 'genesis');
  /** The latest progress of the scene load under way. */
  let warmup: SidecarProgress | undefined;
  /** When the sidecar last showed it was alive during a load (progress, an answer, CPU), `performance.now()`. */
  let lastSign = performance.now();
  let lastCpu: number | undefined;
  /** The scene load under way: other requests wait for it (the sidecar would hold them meanwhile). */
  let pendingLoad: Promise<unknown> | undefined;

  let conn: SidecarConnection | undefined;
  let child: ChildProcess | undefined;
  /** The private directory of the socket (a sidecar this simulator starts). */
  let dir: string | undefined;
  let address: string | undefined;
  let token: string | undefined = options.connect
    ? (options.token ?? process.env.TELEKIT_SIM_TOKEN)
    : undefined;
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
  let nodeLagMs = 0;
  let sidecarAnswerMs: number | undefined;
  /** The deadman the sidecar says it runs (its own command line decides, for one given in `connect`). */
  let sidecarDeadman: { commandMs: number; heartbeatMs: number } | undefined;
  let ready: Promise<void>;
  let eventsSub: Subscription | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];
  const meter = new SidecarPerfMeter();
  let perfPending = false;

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
          format: e.format === 'rgb' ? 'rgb' : 'rgba',
          timestamp: e.timestamp as number,
          seq: e.seq as number,
          data,
        });
        break;
      }
      case 'actuation': {
        if (typeof e.fate !== 'string' || !FATES.has(e.fate)) {
          log.warn('the sidecar reported a command without a known fate', { fate: String(e.fate) });
          break;
        }
        actuations$.next({
          command: e.command as Header,
          fate: e.fate as CommandFate,
          at: e.at as number,
          simTime: e.simTime as number,
          ...(typeof e.receivedAt === 'number' ? { receivedAt: e.receivedAt } : {}),
          ...(typeof e.appliedSimTime === 'number' ? { appliedSimTime: e.appliedSimTime } : {}),
          ...(typeof e.kind === 'string' && KINDS.has(e.kind) ? { kind: e.kind as SimAction['kind'] } : {}),
        });
        break;
      }
      case 'progress': {
        const p: SidecarProgress = {
          scene: String(e.scene),
          phase: String(e.phase),
          message: String(e.message),
          elapsedMs: Number(e.elapsedMs) || 0,
          ...(e.repeat === true ? { repeat: true } : {}),
        };
        lastSign = performance.now();
        warmup = p.phase === 'ready' || p.phase === 'failed' ? undefined : p;
        // The sidecar logs each step itself; the repeats say how long the step has lasted.
        if (p.repeat)
          log.info(`${p.message} (${Math.round(p.elapsedMs / 1000)} s so far)`, {
            sidecar: backend,
            scene: p.scene,
          });
        progress$.next(p);
        break;
      }
      default:
        // `deadman`: the sidecar logs each trip itself (its log comes out under this plugin's name).
        break;
    }
  };

  /** The private directory for the socket: made once (mode 0700), removed by `close()`. */
  const socketPath = (): string => {
    dir ??= mkdtempSync(join(tmpdir(), 'telekit-sim-'));
    const path = join(dir, 'sim.sock');
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      throw new TelekitError(
        'E_SIDECAR_START',
        `the socket path is ${Buffer.byteLength(path)} bytes, more than a Unix socket allows (${MAX_SOCKET_PATH}): point TMPDIR at a shorter directory`,
        { operation: 'start', context: { field: 'TMPDIR' } },
      );
    return path;
  };

  const startProcess = () =>
    new Promise<string>((resolveAddress, reject) => {
      const python = options.python ?? findPython();
      const listen = `unix:${socketPath()}`;
      token = randomBytes(32).toString('hex');
      // Tied to this process: whatever kills Node (even SIGKILL), the kernel sends the sidecar
      // SIGTERM, and it stops the robot on its way out. It also watches its stdin (this pipe) and
      // its parent by itself.
      const proc = spawnChild(
        python,
        [
          '-m',
          'telekit_sim',
          '--backend',
          backend,
          '--listen',
          listen,
          '--supervised',
          '--command-timeout-ms',
          String(deadman.commandMs),
          '--heartbeat-timeout-ms',
          String(deadman.heartbeatMs),
          '--default-ttl-ms',
          String(DEFAULT_TTL_MS),
        ],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: {
            ...process.env,
            MUJOCO_GL: process.env.MUJOCO_GL ?? 'osmesa',
            LP_NUM_THREADS: String(options.renderThreads ?? process.env.LP_NUM_THREADS ?? 1),
            TELEKIT_GENESIS_CACHE: genesisCache,
            PYTHONUNBUFFERED: '1',
          },
          parentDeathSignal: 'SIGTERM',
        },
      );
      child = proc;
      // The token travels on the pipe, which stays open: its end tells the sidecar this process is gone.
      proc.stdin?.on('error', () => undefined);
      proc.stdin?.write(`${token}\n`);
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

  /** Connects and says hello with the token; the hello carries Node's time (the sidecar's first clock sample). */
  const connectTo = async (where: string) => {
    const c = await SidecarConnection.connect(where);
    try {
      const hello = await c.request<{
        protocol: number;
        engine: string;
        capabilities: SimulatorCapabilities;
        deadman?: { commandMs: number; heartbeatMs: number };
      }>('hello', { ...(token ? { token } : {}), time: clock.now() }, requestTimeout);
      return { c, hello };
    } catch (error) {
      c.close();
      throw error;
    }
  };

  /** Starts (or reconnects to) the sidecar and brings it back to where it was. */
  const bringUp = async () => {
    address = options.connect ?? (await startProcess());
    const { c, hello } = await connectTo(address);
    conn = c;
    eventsSub?.unsubscribe();
    eventsSub = c.events$.subscribe(onEvent);
    if (hello.protocol !== SIDECAR_PROTOCOL) {
      throw new TelekitError(
        'E_SIDECAR_PROTOCOL',
        `sidecar speaks protocol ${hello.protocol}, this plugin ${SIDECAR_PROTOCOL}`,
      );
    }
    engine = hello.engine;
    meter.reset();
    backendCapabilities = hello.capabilities;
    sidecarDeadman = hello.deadman;
    // A few pings at once: the sidecar keeps the least delayed one's offset between its clock and
    // Node's, and judges deadlines by it from the first command on.
    for (let i = 0; i < 5; i++) await c.request('ping', { t: clock.now() }, requestTimeout);
    if (scene) {
      // A warm-up, judged by its progress (below), not by a timeout.
      loading++;
      lastSign = performance.now();
      try {
        const r = await c.request<{ scene: SceneInfo & { engine?: string } }>('load_scene', { scene }, 0);
        engine = r.scene.engine ?? engine;
      } finally {
        loading--;
        warmup = undefined;
      }
    }
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
      const backoff = new Backoff({ initialMs: delays.initial, maxMs: delays.max });
      for (;;) {
        if (closed) return;
        await new Promise((r) => setTimeout(r, backoff.next()));
        try {
          await bringUp();
          restarts++;
          log.info('sidecar restarted and restored', { restarts, time: lastSnapshot?.time });
          return;
        } catch (error) {
          // Whatever it got to, the sidecar of this attempt goes: never two alive at once.
          conn?.close();
          if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          log.error('sidecar restart failed', { error: String(error), attempts: backoff.attempts });
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

  // Heartbeat and liveness. Every tick pings the sidecar (its heartbeat, and a clock sample: the
  // ping carries Node's time). A ping counts as unanswered only for the time Node's own event loop
  // ran: a tick that comes late (Node was busy) credits at most one period to the pings in flight,
  // and the verdict is taken after this turn's I/O has been read (setImmediate), so an answer that
  // has been waiting in the socket is seen first. A starved Node never restarts a healthy sidecar.
  const inFlight = new Set<{ waited: number }>();
  let lastTick = performance.now();
  const judge = () => {
    if (status.value !== 'ready' || loading > 0) return;
    let longest = 0;
    for (const p of inFlight) longest = Math.max(longest, p.waited);
    if (longest >= heartbeat.timeoutMs) {
      inFlight.clear();
      void restart(`no answer to a ping for ${Math.round(longest)} ms of Node's own time`);
    }
  };
  timers.push(
    setInterval(() => {
      const now = performance.now();
      const elapsed = now - lastTick;
      lastTick = now;
      nodeLagMs = Math.max(0, elapsed - heartbeat.everyMs);
      const credit = Math.min(elapsed, heartbeat.everyMs);
      for (const p of inFlight) p.waited += credit;
      // A scene load is watched whatever the state (a restarted sidecar reloads its scene before it is ready).
      if (loading > 0) watchWarmup(now);
      if (status.value !== 'ready' || !conn) return;
      const ping = { waited: 0 };
      inFlight.add(ping);
      conn
        .request<{ t: number; received: number }>(
          'ping',
          { t: clock.now() },
          10 * heartbeat.timeoutMs + 60_000,
        )
        .then(
          (r) => {
            sidecarAnswerMs = Math.max(0, r.t - r.received);
            lastSign = performance.now();
          },
          () => undefined,
        )
        .finally(() => inFlight.delete(ping));
      setImmediate(judge);
    }, heartbeat.everyMs),
  );
  /**
   * During a scene load: a sidecar that shows no sign of life (progress, an answered ping, CPU time
   * spent) for `warmup.idleMs` is hung, and restarted. One that is compiling spends CPU: never.
   */
  function watchWarmup(now: number) {
    const cpu = child?.pid === undefined || options.connect ? undefined : cpuTicks(child.pid);
    if (cpu !== undefined && lastCpu !== undefined && cpu > lastCpu) lastSign = now;
    lastCpu = cpu;
    const idle = now - lastSign;
    if (idle >= warmupIdleMs) {
      lastSign = now;
      const reason = `no sign of life for ${Math.round(idle / 1000)} s while loading a scene (no progress, no answer, no CPU time)`;
      if (!restarting) void restart(reason);
      else {
        // Hung while a restart reloads its scene: the restart's attempt fails, and the next one starts afresh.
        log.warn('sidecar hung reloading its scene: killing it', { reason });
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
  }

  // Keep a recent snapshot to restore after a restart.
  timers.push(
    setInterval(() => {
      if (status.value !== 'ready' || !conn || !scene || !capabilities.snapshot) return;
      conn
        .request<{ snapshot: SimSnapshot }>('snapshot', {}, requestTimeout)
        .then((r) => {
          lastSnapshot = r.snapshot;
        })
        .catch(() => undefined);
    }, options.snapshotEveryMs ?? 1_000),
  );
  // What the sidecar spends, and the camera's frames (their records stay in the sidecar for ~8 s).
  timers.push(
    setInterval(() => {
      if (status.value !== 'ready' || !conn || perfPending) return;
      perfPending = true;
      conn
        .request<WirePerf>('perf', { since: meter.since }, requestTimeout)
        .then((r) => meter.add(clock.now(), r))
        .catch(() => undefined)
        .finally(() => {
          perfPending = false;
        });
    }, options.perfEveryMs ?? 1_000),
  );
  for (const t of timers) t.unref();

  const call = async <T extends Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
  ): Promise<T> => {
    if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: op });
    await ready;
    // Behind a scene load the sidecar would hold the request (its lock) past any timeout: wait here.
    while (pendingLoad && !LOCK_FREE.has(op)) await pendingLoad.catch(() => undefined);
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
    get perf() {
      return meter.perf;
    },
    frameTimings$: meter.frames$.asObservable(),
    async loadScene(spec) {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
      await ready;
      while (pendingLoad) await pendingLoad.catch(() => undefined);
      loading++;
      lastSign = performance.now();
      lastCpu = undefined;
      const load = (async () => {
        try {
          return await conn!.request<{ scene: SceneInfo & { engine?: string } }>(
            'load_scene',
            { scene: spec },
            0,
          );
        } catch (error) {
          // The sidecar died (or was restarted as hung) under the load: once it is back, try once more.
          if (closed || !(error instanceof TelekitError) || error.code !== 'E_SIDECAR_GONE') throw error;
          await restart(error.message);
          return conn!.request<{ scene: SceneInfo & { engine?: string } }>('load_scene', { scene: spec }, 0);
        }
      })();
      pendingLoad = load;
      const r = await load.finally(() => {
        loading--;
        warmup = undefined;
        if (pendingLoad === load) pendingLoad = undefined;
      });
      const { engine: loadedOn, ...info } = r.scene;
      engine = loadedOn ?? engine;
      r.scene = info;
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
      // Fire and forget on the hot path. The sidecar reports the command's fate (refused included)
      // on actuations$; a refusal is logged here with its reason too.
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
    async prepareCamera(opts) {
      await call('camera', { ...opts, enabled: true, prepare: true });
    },
    async poseSnapshot() {
      const r = await call<{ snapshot: SimSnapshot & { data: Uint8Array } }>('poses');
      const { scene: id, engine: on, time, data } = r.snapshot;
      return { scene: id, engine: on, time, data: new Uint8Array(data) };
    },
    async sceneDescription() {
      const r = await call<{ description: Omit<SimScene, 'header'> }>('scene');
      return r.description;
    },
    progress$: progress$.asObservable(),
    async stats() {
      const { id: _, ok: __, ...r } = await call<Record<string, unknown>>('stats');
      return r as unknown as SidecarStats;
    },
    async openConnection() {
      if (closed)
        throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'openConnection' });
      await ready;
      return (await connectTo(address!)).c;
    },
    health() {
      const s = status.value;
      // Ready to drive: a sidecar that answers, with a scene loaded and no load under way.
      const drivable = s === 'ready' && scene !== undefined && loading === 0;
      const detail =
        s !== 'ready'
          ? s
          : warmup
            ? `warming up: ${warmup.message} (${Math.round(warmup.elapsedMs / 1000)} s)`
            : loading > 0
              ? 'loading a scene'
              : scene === undefined
                ? 'no scene loaded'
                : `${engine}, deadman ${sidecarDeadman ? `${sidecarDeadman.commandMs} ms` : 'unknown'}`;
      return {
        status: drivable ? 'ok' : s === 'closed' ? 'down' : 'degraded',
        // Never the address or the token: /readyz shows this.
        detail,
        data: {
          restarts,
          backend,
          engine,
          transport: address === undefined || address.startsWith('unix:') ? 'unix' : 'tcp',
          realtimeFactor,
          nodeLagMs,
          sidecarAnswerMs,
          ...(meter.perf ? { cpu: meter.perf.cpu, camera: meter.perf.camera } : {}),
          scene: scene?.id,
          ...(warmup ? { warmup } : {}),
        },
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
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        const kill = setTimeout(() => child?.kill('SIGKILL'), 2_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(kill);
      }
      child?.stdin?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
      eventsSub?.unsubscribe();
      meter.close();
      state$.complete();
      actuations$.complete();
      progress$.complete();
      frames.complete();
      status.complete();
    },
  };
  return sim;
}
