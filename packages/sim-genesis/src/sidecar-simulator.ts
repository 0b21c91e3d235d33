import { resolve } from 'node:path';
import { consoleLogger, type Header, systemClock, TelekitError } from '@telekit/core';
import type { Frame, SimAction, SimSnapshot } from '@telekit/core/contracts';
import type { SimScene } from '@telekit/core/schemas';
import { Subject } from 'rxjs';
import { sidecarCamera } from './sidecar-camera.js';
import { sidecarEventHandler } from './sidecar-events.js';
import { SidecarPerfMeter } from './sidecar-perf.js';
import { SidecarSupervisor } from './sidecar-supervisor.js';
import type {
  SidecarActuation,
  SidecarHealth,
  SidecarProgress,
  SidecarSimulator,
  SidecarSimulatorOptions,
  SidecarState,
  SidecarStats,
} from './sidecar-types.js';
import { type SidecarWatch, watchSidecar } from './sidecar-watch.js';
import { toState, type WireState } from './sidecar-wire.js';

export { findPython } from './sidecar-process.js';
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
 * The parts: starting the process (`sidecar-process.ts`), keeping it alive and restoring it
 * (`sidecar-supervisor.ts`), watching it (`sidecar-watch.ts`), reading its events
 * (`sidecar-events.ts`) and the camera (`sidecar-camera.ts`); this function puts them behind the
 * contract.
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
  const { backend, log, supervisor, watching } = settingsOf(options);
  const state$ = new Subject<SidecarState>();
  const actuations$ = new Subject<SidecarActuation>();
  const frames = new Subject<Frame>();
  const progress$ = new Subject<SidecarProgress>();
  const meter = new SidecarPerfMeter();
  let realtimeFactor = 0;

  const sup: SidecarSupervisor = new SidecarSupervisor({
    ...supervisor,
    meter,
    onEvent: sidecarEventHandler({
      log,
      state(s) {
        realtimeFactor = s.realtimeFactor;
        state$.next(s);
      },
      frame: (f) => frames.next(f),
      actuation: (a) => actuations$.next(a),
      progress(p) {
        sup.lastSign = performance.now();
        sup.warmup = p.phase === 'ready' || p.phase === 'failed' ? undefined : p;
        // The sidecar logs each step itself; the repeats say how long the step has lasted.
        if (p.repeat)
          log.info(`${p.message} (${Math.round(p.elapsedMs / 1000)} s so far)`, {
            sidecar: backend,
            scene: p.scene,
          });
        progress$.next(p);
      },
    }),
  });
  const watch = watchSidecar(sup, { ...watching, meter });
  const camera = sidecarCamera(sup, frames, options.camera);

  const sim: SidecarSimulator = {
    name: `sidecar-${backend}`,
    get capabilities() {
      return sup.capabilities;
    },
    get restarts() {
      return sup.restarts;
    },
    get engine() {
      return sup.engine;
    },
    get process() {
      return sup.child;
    },
    get perf() {
      return meter.perf;
    },
    frameTimings$: meter.frames$.asObservable(),
    loadScene: (spec) => sup.loadScene(spec),
    async reset() {
      await sup.call('reset');
      sup.lastSnapshot = undefined;
    },
    async step(n = 1) {
      const r = await sup.call<{ state: WireState }>('step', { n });
      const s = toState(r.state);
      state$.next(s);
      return s;
    },
    act(action: SimAction, command?: Header) {
      if (sup.closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'act' });
      // Fire and forget on the hot path. The sidecar reports the command's fate (refused included)
      // on actuations$; a refusal is logged here with its reason too.
      void sup.call('act', { action, ...(command ? { command } : {}) }).catch((error: unknown) =>
        log.warn('action refused', {
          kind: action.kind,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    },
    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$: camera.frames$,
    async snapshot() {
      const r = await sup.call<{ snapshot: SimSnapshot & { data: Uint8Array } }>('snapshot');
      return { ...r.snapshot, data: new Uint8Array(r.snapshot.data) };
    },
    async restore(snapshot) {
      await sup.call('restore', { snapshot });
      sup.lastSnapshot = snapshot;
    },
    async run(opts = {}) {
      sup.running = { stateHz: opts.stateHz ?? 50 };
      await sup.call('run', { state_hz: sup.running.stateHz });
    },
    async pause() {
      sup.running = undefined;
      await sup.call('pause');
    },
    camera: camera.camera,
    prepareCamera: camera.prepareCamera,
    async poseSnapshot() {
      const r = await sup.call<{ snapshot: SimSnapshot & { data: Uint8Array } }>('poses');
      const { scene: id, engine: on, time, data } = r.snapshot;
      return { scene: id, engine: on, time, data: new Uint8Array(data) };
    },
    async sceneDescription() {
      const r = await sup.call<{ description: Omit<SimScene, 'header'> }>('scene');
      return r.description;
    },
    progress$: progress$.asObservable(),
    async stats() {
      const { id: _, ok: __, ...r } = await sup.call<Record<string, unknown>>('stats');
      return r as unknown as SidecarStats;
    },
    openConnection: () => sup.openConnection(),
    health: () => healthOf(sup, watch, { backend, realtimeFactor, perf: meter.perf }),
    async close() {
      if (sup.closed) return;
      sup.closed = true;
      sup.status.next('closed');
      watch.stop();
      await sup.shutdown();
      meter.close();
      state$.complete();
      actuations$.complete();
      progress$.complete();
      frames.complete();
      sup.status.complete();
    },
  };
  return sim;
}

/** The options resolved to their defaults, the invalid ones refused naming the field. */
function settingsOf(options: SidecarSimulatorOptions) {
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
  const warmupIdleMs = options.warmup?.idleMs ?? 600_000;
  if (!(Number.isFinite(warmupIdleMs) && warmupIdleMs > 0))
    throw new TelekitError('E_VALIDATION', 'warmup.idleMs must be a positive number of ms', {
      operation: 'sidecarSimulator',
      context: { field: 'warmup.idleMs', value: warmupIdleMs },
    });
  const backend = options.backend ?? 'mujoco';
  const log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/sim-genesis' } });
  const clock = options.clock ?? systemClock;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  return {
    backend,
    log,
    supervisor: {
      backend,
      connect: options.connect,
      token: options.token ?? process.env.TELEKIT_SIM_TOKEN,
      python: options.python,
      deadman,
      renderThreads: options.renderThreads,
      genesisCache:
        options.genesisCache ?? process.env.TELEKIT_GENESIS_CACHE ?? resolve('.cache', 'telekit', 'genesis'),
      requestTimeout,
      delays: options.restartDelayMs ?? { initial: 250, max: 5_000 },
      clock,
      log,
    },
    watching: {
      heartbeat,
      warmupIdleMs,
      snapshotEveryMs: options.snapshotEveryMs ?? 1_000,
      perfEveryMs: options.perfEveryMs ?? 1_000,
      requestTimeout,
      clock,
      log,
      remote: Boolean(options.connect),
    },
  };
}

/** What `health()` reports: drivable once the sidecar answers with a scene loaded and no load under way. */
function healthOf(
  sup: SidecarSupervisor,
  watch: SidecarWatch,
  extra: { backend: string; realtimeFactor: number; perf: SidecarSimulator['perf'] },
): SidecarHealth {
  const { engine, scene, loading, warmup, sidecarDeadman, address } = sup;
  const s = sup.status.value;
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
      restarts: sup.restarts,
      backend: extra.backend,
      engine,
      transport: address === undefined || address.startsWith('unix:') ? 'unix' : 'tcp',
      realtimeFactor: extra.realtimeFactor,
      nodeLagMs: watch.nodeLagMs,
      sidecarAnswerMs: watch.sidecarAnswerMs,
      ...(extra.perf ? { cpu: extra.perf.cpu, camera: extra.perf.camera } : {}),
      scene: scene?.id,
      ...(warmup ? { warmup } : {}),
    },
  };
}
