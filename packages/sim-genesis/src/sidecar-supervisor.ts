// The sidecar kept alive: starting it (or connecting to one given in `connect`), saying hello with
// the token, and after a crash or a hang restarting it with backoff and bringing it back to where it
// was (its scene, its last snapshot, its camera, running or not). It holds the connection and what
// a restart restores, sends requests (waiting behind a scene load, retrying once across a restart),
// runs scene loads, and on close shuts the sidecar down and removes its socket's directory.
// Watching it (pings, warm-ups, snapshots, perf) is `sidecar-watch.ts`'s.

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type Clock, type Logger, TelekitError } from '@telekit/core';
import type { SceneInfo, SceneSpec, SimSnapshot, SimulatorCapabilities } from '@telekit/core/contracts';
import { Backoff } from '@telekit/core/node';
import { BehaviorSubject, type Subscription } from 'rxjs';
import { SIDECAR_PROTOCOL, SidecarConnection, type SidecarEvent } from './sidecar-connection.js';
import type { SidecarPerfMeter } from './sidecar-perf.js';
import { findPython, makeSocketDir, socketPathIn, spawnSidecar } from './sidecar-process.js';
import type { CameraOptions, SidecarProgress } from './sidecar-types.js';
import { LOCK_FREE } from './sidecar-wire.js';

/** Where the sidecar is: starting, answering, being restarted, or closed for good. */
export type SidecarStatus = 'starting' | 'ready' | 'restarting' | 'closed';

/** What {@link SidecarSupervisor} needs, resolved from the simulator's options. */
export interface SupervisorSettings {
  backend: string;
  /** A sidecar already running (`options.connect`); without it, one is started here. */
  connect: string | undefined;
  /** The token a sidecar given in `connect` wants. */
  token: string | undefined;
  python: string | undefined;
  deadman: { commandMs: number; heartbeatMs: number };
  renderThreads: number | undefined;
  genesisCache: string;
  requestTimeout: number;
  delays: { initial: number; max: number };
  clock: Clock;
  log: Logger;
  meter: SidecarPerfMeter;
  /** Handles the events of each connection the supervisor makes. */
  onEvent(e: SidecarEvent): void;
}

type LoadedScene = { scene: SceneInfo & { engine?: string } };

/** Keeps one sidecar alive behind the simulator, and remembers what to restore after a restart. */
export class SidecarSupervisor {
  readonly status = new BehaviorSubject<SidecarStatus>('starting');
  conn: SidecarConnection | undefined;
  child: ChildProcess | undefined;
  address: string | undefined;
  engine: string | undefined;
  /** The deadman the sidecar says it runs (its own command line decides, for one given in `connect`). */
  sidecarDeadman: { commandMs: number; heartbeatMs: number } | undefined;
  restarts = 0;
  closed = false;
  /** Resolves once the sidecar is up (again). */
  ready: Promise<void>;
  /** The restart under way. */
  restarting: Promise<void> | undefined;
  private backendCapabilities: SimulatorCapabilities = {
    base: true,
    joints: true,
    camera: true,
    snapshot: true,
  };
  /** What the sidecar can do, narrowed to what the loaded scene has. */
  capabilities = this.backendCapabilities;

  // What a restarted sidecar is brought back to.
  scene: SceneSpec | undefined;
  lastSnapshot: SimSnapshot | undefined;
  running: { stateHz: number } | undefined;
  cameraConfig: (CameraOptions & { explicit: boolean }) | undefined;

  // Scene loads.
  loading = 0;
  /** The latest progress of the scene load under way. */
  warmup: SidecarProgress | undefined;
  /** When the sidecar last showed it was alive during a load (progress, an answer, CPU), `performance.now()`. */
  lastSign = performance.now();
  lastCpu: number | undefined;
  /** The scene load under way: other requests wait for it (the sidecar would hold them meanwhile). */
  pendingLoad: Promise<unknown> | undefined;

  /** The private directory of the socket (a sidecar this simulator starts). */
  private dir: string | undefined;
  private token: string | undefined;
  private eventsSub: Subscription | undefined;
  private readonly s: SupervisorSettings;

  /** Starts the sidecar (or connects to it) at once; `ready` says when it is up. */
  constructor(settings: SupervisorSettings) {
    this.s = settings;
    this.token = settings.connect ? settings.token : undefined;
    this.ready = this.bringUp();
    this.ready.catch(() => undefined);
  }

  private startProcess(): Promise<string> {
    const python = this.s.python ?? findPython();
    this.dir ??= makeSocketDir();
    const listen = `unix:${socketPathIn(this.dir)}`;
    this.token = randomBytes(32).toString('hex');
    const started = spawnSidecar({
      python,
      backend: this.s.backend,
      listen,
      token: this.token,
      deadman: this.s.deadman,
      renderThreads: this.s.renderThreads,
      genesisCache: this.s.genesisCache,
      log: this.s.log,
    });
    if (started.proc) this.child = started.proc;
    return started.listening;
  }

  /** Connects and says hello with the token; the hello carries Node's time (the sidecar's first clock sample). */
  async connectTo(where: string) {
    const c = await SidecarConnection.connect(where);
    try {
      const hello = await c.request<{
        protocol: number;
        engine: string;
        capabilities: SimulatorCapabilities;
        deadman?: { commandMs: number; heartbeatMs: number };
      }>(
        'hello',
        { ...(this.token ? { token: this.token } : {}), time: this.s.clock.now() },
        this.s.requestTimeout,
      );
      return { c, hello };
    } catch (error) {
      c.close();
      throw error;
    }
  }

  /** Starts (or reconnects to) the sidecar and brings it back to where it was. */
  private async bringUp(): Promise<void> {
    const { requestTimeout, clock } = this.s;
    this.address = this.s.connect ?? (await this.startProcess());
    const { c, hello } = await this.connectTo(this.address);
    this.conn = c;
    this.eventsSub?.unsubscribe();
    this.eventsSub = c.events$.subscribe(this.s.onEvent);
    if (hello.protocol !== SIDECAR_PROTOCOL) {
      throw new TelekitError(
        'E_SIDECAR_PROTOCOL',
        `sidecar speaks protocol ${hello.protocol}, this plugin ${SIDECAR_PROTOCOL}`,
      );
    }
    this.engine = hello.engine;
    this.s.meter.reset();
    this.backendCapabilities = hello.capabilities;
    this.sidecarDeadman = hello.deadman;
    // A few pings at once: the sidecar keeps the least delayed one's offset between its clock and
    // Node's, and judges deadlines by it from the first command on.
    for (let i = 0; i < 5; i++) await c.request('ping', { t: clock.now() }, requestTimeout);
    if (this.scene) {
      // A warm-up, judged by its progress (sidecar-watch.ts), not by a timeout.
      this.loading++;
      this.lastSign = performance.now();
      try {
        const r = await c.request<LoadedScene>('load_scene', { scene: this.scene }, 0);
        this.engine = r.scene.engine ?? this.engine;
      } finally {
        this.loading--;
        this.warmup = undefined;
      }
    }
    if (this.lastSnapshot) await c.request('restore', { snapshot: this.lastSnapshot }, requestTimeout);
    if (this.cameraConfig) await c.request('camera', { enabled: true, ...this.cameraConfig }, requestTimeout);
    if (this.running) await c.request('run', { state_hz: this.running.stateHz }, requestTimeout);
    void c.closed.then(() => {
      if (!this.closed && this.conn === c) void this.restart('the sidecar connection closed');
    });
    this.status.next('ready');
  }

  /** Restarts the sidecar (one restart at a time), with backoff until it is back or closed. */
  restart(why: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.restarting) return this.restarting;
    const { log, delays } = this.s;
    this.status.next('restarting');
    log.warn('sidecar lost; restarting', { reason: why, restarts: this.restarts });
    this.restarting = (async () => {
      this.conn?.close();
      if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
      const backoff = new Backoff({ initialMs: delays.initial, maxMs: delays.max });
      for (;;) {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, backoff.next()));
        try {
          await this.bringUp();
          this.restarts++;
          log.info('sidecar restarted and restored', {
            restarts: this.restarts,
            time: this.lastSnapshot?.time,
          });
          return;
        } catch (error) {
          // Whatever it got to, the sidecar of this attempt goes: never two alive at once.
          this.conn?.close();
          this.killChild();
          log.error('sidecar restart failed', { error: String(error), attempts: backoff.attempts });
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    this.ready = this.restarting;
    return this.restarting;
  }

  /** Kills the sidecar process at once, if it is still running. */
  killChild(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null)
      this.child.kill('SIGKILL');
  }

  /** Sends a request once the sidecar is up and no scene load holds it; across a restart, once more. */
  async call<T extends Record<string, unknown>>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: op });
    await this.ready;
    // Behind a scene load the sidecar would hold the request (its lock) past any timeout: wait here.
    while (this.pendingLoad && !LOCK_FREE.has(op)) await this.pendingLoad.catch(() => undefined);
    try {
      return await this.conn!.request<T>(op, args, this.s.requestTimeout);
    } catch (error) {
      // The sidecar died under this request: wait for it to come back, then try once more.
      if (this.closed || !(error instanceof TelekitError) || error.code !== 'E_SIDECAR_GONE') throw error;
      await this.restart(error.message);
      return this.conn!.request<T>(op, args, this.s.requestTimeout);
    }
  }

  /** Loads a scene (one load at a time), and narrows the capabilities to what it has. */
  async loadScene(spec: SceneSpec): Promise<SceneInfo> {
    if (this.closed)
      throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
    await this.ready;
    while (this.pendingLoad) await this.pendingLoad.catch(() => undefined);
    this.loading++;
    this.lastSign = performance.now();
    this.lastCpu = undefined;
    const load = (async () => {
      try {
        return await this.conn!.request<LoadedScene>('load_scene', { scene: spec }, 0);
      } catch (error) {
        // The sidecar died (or was restarted as hung) under the load: once it is back, try once more.
        if (this.closed || !(error instanceof TelekitError) || error.code !== 'E_SIDECAR_GONE') throw error;
        await this.restart(error.message);
        return this.conn!.request<LoadedScene>('load_scene', { scene: spec }, 0);
      }
    })();
    this.pendingLoad = load;
    const r = await load.finally(() => {
      this.loading--;
      this.warmup = undefined;
      if (this.pendingLoad === load) this.pendingLoad = undefined;
    });
    const { engine: loadedOn, ...info } = r.scene;
    this.engine = loadedOn ?? this.engine;
    r.scene = info;
    this.scene = spec;
    // What the sidecar can do, narrowed to what this scene has.
    this.capabilities = {
      ...this.backendCapabilities,
      base: this.backendCapabilities.base && r.scene.hasBase,
      joints: this.backendCapabilities.joints && r.scene.joints.length > 0,
    };
    this.lastSnapshot = undefined;
    return r.scene;
  }

  /** Another authenticated connection to the sidecar; the caller closes it. */
  async openConnection(): Promise<SidecarConnection> {
    if (this.closed)
      throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'openConnection' });
    await this.ready;
    return (await this.connectTo(this.address!)).c;
  }

  /**
   * Shuts the sidecar down once `closed` is set: asks it to (one it started), closes the connection,
   * ends the process (SIGTERM, then SIGKILL after 2 s) and removes the socket's directory.
   */
  async shutdown(): Promise<void> {
    if (this.conn && !this.conn.isClosed && !this.s.connect)
      await this.conn.request('shutdown', {}, 2_000).catch(() => undefined);
    this.conn?.close();
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child!.once('exit', r));
      const kill = setTimeout(() => this.child?.kill('SIGKILL'), 2_000);
      this.child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    }
    this.child?.stdin?.destroy();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.eventsSub?.unsubscribe();
  }
}
