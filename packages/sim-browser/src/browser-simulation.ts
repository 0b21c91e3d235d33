import { type Header, headerSequence, TelekitError, Topics, type Transport } from '@telekit/core';
import type { SceneSpec, SimAction } from '@telekit/core/contracts';
import { BehaviorSubject, firstValueFrom, type Subscription, timeout } from 'rxjs';
import { AuthoritySync, type AuthoritySyncOptions, type DivergenceReport } from './authority-sync.js';
import { memoryShortfall, realtimeFactor } from './capacity-checks.js';
import { commandProxy } from './command-proxy.js';
import { type EngineOptions, loadEngine, webAssemblySupported } from './engine.js';
import { httpScenes } from './http-scenes.js';
import {
  CrossEngineGuard,
  type CrossEngineGuardOptions,
  followAnyEngine,
  sceneLayout,
} from './pose-authority.js';
import type { SceneResolver } from './scene.js';
import { SimClock } from './sim-clock.js';
import { type SimSnapshotMessage, SimTopics } from './topics.js';
import { type WasmSimulator, wasmSimulator } from './wasm-simulator.js';

/** Where the simulation runs: in this page, or on the server (video and telemetry only). */
export type SimMode = 'browser' | 'server' | 'auto';

/** The current mode and why. */
export interface SimModeState {
  readonly mode: 'starting' | 'browser' | 'server';
  readonly reason: string;
}

/** Options of {@link BrowserSimulation}. */
export interface BrowserSimulationOptions {
  /** The gateway client: snapshots come in on it, divergence goes out. */
  transport: Transport;
  /** The scene the server simulates (the same name the scene routes know). */
  scene: SceneSpec;
  /** Scene files, e.g. `httpScenes('/sim')`. */
  scenes: SceneResolver;
  /** `auto` (default) picks the browser when it can keep up and falls back by itself; `browser` skips the speed checks. */
  mode?: SimMode;
  engine?: EngineOptions;
  sync?: AuthoritySyncOptions;
  /** WebAssembly memory the page must be able to reserve, MiB. Default 64. */
  minMemoryMB?: number;
  /** How much faster than real time the engine must step this scene at start. Default 2. */
  minRealtimeFactor?: number;
  /** Falling behind real time by this much (seconds, page visible) switches to server mode. Default 1. */
  maxLagSeconds?: number;
  /** How far ahead of the last snapshot the browser runs, ms (covers the snapshot's trip). Default 100. */
  leadMs?: number;
  /** How long to wait for the first snapshot, ms. Default 5 000. */
  firstSnapshotMs?: number;
  /** Sender id on divergence reports. */
  sender?: string;
  /**
   * Whether to publish divergence reports now: e.g. `() => client.role !== 'viewer'` (a viewer may
   * not publish, and every refused report would come back as a fault). Default: always.
   */
  reportDivergence?: () => boolean;
  /**
   * The server's clock minus this page's, ms, when known (a gateway client's `estimate.offset`):
   * it times each snapshot's trip, so the page knows where the authority is now. Default: the
   * transport's `estimate.offset` if it has one, else none (the trip counts as zero).
   */
  clockOffset?: () => number | undefined;
  /**
   * How long a command takes from this page to the authority's step, ms (the gateway's latency
   * budget says: network + gate + forward + apply). The page applies each command at the authority's
   * simulated time it will act at, not at its own (it runs ahead). Default 8; settable later as
   * {@link BrowserSimulation.commandDelayMs}.
   */
  commandDelayMs?: number;
  /**
   * An authority on another engine (a Genesis server, sending pose snapshots): how far the page's
   * prediction may drift from it before the page falls back to server mode (see `CrossEngineGuard`).
   */
  crossEngine?: CrossEngineGuardOptions;
}

/**
 * The simulator in the page, with the server as authority: decides whether the browser can run the
 * scene (WebAssembly, memory, engine and scene load, speed), starts from the server's snapshot, runs
 * in real time ahead of it, applies the operator's commands at once, measures and corrects
 * divergence at every snapshot (publishing it on `/telemetry/sim_divergence`) and switches to server
 * mode by itself when anything fails or it falls behind — saying why on `mode$`.
 *
 * @example
 * ```ts
 * const sim = new BrowserSimulation({ transport: client, scene: { id: 'diff-drive' }, scenes: httpScenes('/sim') });
 * sim.mode$.subscribe(({ mode, reason }) => console.log(mode, reason));
 * await sim.start();
 * const control = sim.control(client); // give this to the teleop pad: commands act locally too
 * ```
 */
export class BrowserSimulation {
  readonly #o: BrowserSimulationOptions;
  readonly #mode = new BehaviorSubject<SimModeState>({ mode: 'starting', reason: 'not started' });
  #sim: WasmSimulator | undefined;
  #sync: AuthoritySync | undefined;
  #pending: SimSnapshotMessage | undefined;
  #subs: Subscription[] = [];
  /** What `control()` watches on its transports, until `close()`. */
  #controls: { unsubscribe(): void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Where the page's simulation should be in time, and where the authority's is. */
  readonly #clock = new SimClock();
  #pendingAt = 0;
  #stepsPerSecond = 0;
  /** How long a command takes from this page to the authority's step, ms (see the option). */
  commandDelayMs: number;
  #closed = false;
  /** Judges an authority on another engine (unused when the server runs the page's own). */
  readonly #guard: CrossEngineGuard;
  readonly #seq: (ttl?: number) => Header;

  /** The mode, and the reason for it. */
  readonly mode$ = this.#mode.asObservable();
  /** Divergence at every snapshot. */
  readonly divergence$ = new BehaviorSubject<DivergenceReport | undefined>(undefined);

  /**
   * A simulation set up from what the server's `browserSimRoutes` publish (`<base>/config.json`:
   * the scene and the server's mode; the engine and the scene files under `base`). A `mode` given
   * here (say from the page's `?sim=`) overrides the server's.
   *
   * @example
   * ```ts
   * const sim = await BrowserSimulation.fromServer({ transport: client, mode: query.get('sim') });
   * ```
   */
  static async fromServer(
    options: Omit<BrowserSimulationOptions, 'scene' | 'scenes' | 'mode'> & {
      base?: string;
      mode?: SimMode | string | null;
    },
  ): Promise<BrowserSimulation> {
    const base = (options.base ?? '/sim').replace(/\/$/, '');
    const response = await fetch(`${base}/config.json`);
    if (!response.ok)
      throw new TelekitError('E_SIM_CONFIG', `cannot fetch ${base}/config.json: HTTP ${response.status}`, {
        operation: 'fromServer',
      });
    const config = (await response.json()) as { scene: string; mode: SimMode };
    const asked = options.mode;
    const mode = asked === 'browser' || asked === 'server' || asked === 'auto' ? asked : config.mode;
    const { base: _, mode: __, ...rest } = options;
    return new BrowserSimulation({
      engine: { wasmUrl: `${base}/mujoco.wasm` },
      ...rest,
      scene: { id: config.scene },
      scenes: httpScenes(base),
      mode,
    });
  }

  constructor(options: BrowserSimulationOptions) {
    this.#o = options;
    this.commandDelayMs = options.commandDelayMs ?? 8;
    this.#guard = new CrossEngineGuard(options.crossEngine);
    this.#seq = headerSequence(
      options.sender ?? 'browser-sim',
      () => performance.timeOrigin + performance.now(),
    );
  }

  get mode(): SimModeState {
    return this.#mode.value;
  }

  /** The local simulator, while in browser mode. */
  get simulator(): WasmSimulator | undefined {
    return this.#mode.value.mode === 'browser' ? this.#sim : undefined;
  }

  /** How many steps per second the engine managed in the start-up probe. */
  get stepsPerSecond(): number {
    return this.#stepsPerSecond;
  }

  /** Body poses to draw (blended through corrections); empty outside browser mode. */
  bodies() {
    return this.#mode.value.mode === 'browser' && this.#sync ? this.#sync.bodies() : [];
  }

  /** Decides the mode and starts; resolves with it. Never rejects: failures become server mode. */
  async start(): Promise<SimModeState> {
    const o = this.#o;
    const mode = o.mode ?? 'auto';
    if (mode === 'server') return this.#fallBack('server mode was asked for (SIM_MODE=server)');
    const checks = mode === 'auto';
    if (!webAssemblySupported()) return this.#fallBack('this browser has no WebAssembly');
    if (checks) {
      const short = memoryShortfall(o.minMemoryMB ?? 64);
      if (short) return this.#fallBack(short);
    }
    try {
      const engine = await loadEngine(o.engine);
      const sim = wasmSimulator({ engine, scenes: o.scenes });
      this.#sim = sim;
      const info = await sim.loadScene(o.scene);
      if (checks) {
        const rtf = await realtimeFactor(sim, info.timestep);
        this.#stepsPerSecond = rtf / info.timestep;
        const need = o.minRealtimeFactor ?? 2;
        if (rtf < need)
          return this.#fallBack(
            `too slow: this browser steps the scene at ${rtf.toFixed(1)}× real time, ${need}× is needed`,
          );
      }
      // Byte snapshots from the same engine, or pose snapshots from another (pose-authority.ts).
      this.#sync = new AuthoritySync(
        followAnyEngine(sim, async () => sceneLayout(engine, await o.scenes(o.scene))),
        o.sync,
      );
      const sync = this.#sync;
      this.#subs.push(
        // Where the authority applied this page's commands: each goes to that step, if it was elsewhere.
        o.transport.subscribe(Topics.actuation, { depth: 64 }).subscribe((a) => {
          const me = (o.transport as { clientId?: string }).clientId;
          if (a.fate !== 'applied' || a.simTime === undefined || me === undefined || a.command.sender !== me)
            return;
          sync.placeAt(`${a.command.topic} ${a.command.seq}`, a.simTime).catch(() => undefined);
        }),
        o.transport.subscribe(SimTopics.snapshot).subscribe((s) => {
          this.#pending = s;
          this.#pendingAt = performance.now();
        }),
      );
      const first = await firstValueFrom(
        o.transport.subscribe(SimTopics.snapshot).pipe(timeout(o.firstSnapshotMs ?? 5_000)),
      ).catch(() => undefined);
      if (!first) return this.#fallBack('no snapshot from the server simulator: is simAuthority running?');
      await this.#sync.adopt(toSnapshot(first));
      this.#anchor(first, performance.now());
      this.#pending = undefined;
      // Run ahead of the authority by the snapshot's trip, so a snapshot arrives for a moment the
      // browser has already simulated and can be compared with it.
      const lead = Math.round((o.leadMs ?? 100) / 1000 / info.timestep);
      await this.#sync.step(lead);
      this.#clock.restart(performance.now(), sim.time);
    } catch (error) {
      return this.#fallBack((error as Error).message);
    }
    if (this.#closed) return this.#mode.value;
    this.#mode.next({
      mode: 'browser',
      reason: checks
        ? `this browser steps the scene at ${Math.round(this.#stepsPerSecond)} steps/s`
        : 'browser mode was asked for (SIM_MODE=browser)',
    });
    this.#tick();
    return this.#mode.value;
  }

  /**
   * A transport for the operator's widgets: everything goes to the server as before, and commands
   * (`/controller/twist`, `joints`, `estop`) also act on the browser simulator at once.
   */
  control<T extends Transport>(transport: T): T {
    const { proxy, watch } = commandProxy(transport, (action, header, id) =>
      this.command(action, header, id),
    );
    if (watch) this.#controls.push(watch);
    return proxy;
  }

  /**
   * Applies an operator command to the browser simulator (no-op outside browser mode), at the
   * authority's simulated time it will act at: now plus {@link commandDelayMs} on the authority's
   * clock. The page runs ahead of the authority, so that moment is usually in the page's past: the
   * page rolls back to the last snapshot and replays with the command in its place, and what it
   * shows is what the server will do. When the authority reports where the command acted (its
   * actuation report's `simTime`; `id` names the command as the gateway client sent it), it is moved
   * there if it was elsewhere (a command delayed on its way).
   */
  command(action: SimAction, header?: Header, id?: string): void {
    const sync = this.#sync;
    if (this.#mode.value.mode !== 'browser' || !sync) return;
    const at = this.#clock.authorityTime(performance.now() + this.commandDelayMs);
    // The server validates and answers; a command the local sim refuses is just not predicted.
    const ignore = () => undefined;
    try {
      if (at === undefined) sync.act(action, header);
      else sync.actAt(action, at, header, id).catch(ignore);
    } catch {
      ignore();
    }
  }

  /** Where the authority was when it took `snapshot`, on this page's clock: arrival minus the trip. */
  #anchor(snapshot: SimSnapshotMessage, arrivedAt: number): void {
    const offset =
      this.#o.clockOffset?.() ?? (this.#o.transport as { estimate?: { offset?: number } }).estimate?.offset;
    this.#clock.anchor(snapshot.time, snapshot.header.stamp, arrivedAt, offset);
  }

  #tick = (): void => {
    if (this.#closed || this.#mode.value.mode !== 'browser') return;
    const sim = this.#sim!;
    const sync = this.#sync!;
    const run = async () => {
      const snapshot = this.#pending;
      this.#pending = undefined;
      if (snapshot) {
        this.#anchor(snapshot, this.#pendingAt);
        const report = await sync.apply(toSnapshot(snapshot));
        this.divergence$.next(report);
        this.#publish(report);
        const disagree = this.#guard.judge(report, snapshot.engine, sim.engine);
        if (disagree) {
          this.#fallBack(disagree);
          return;
        }
        this.#follow(snapshot.time);
      }
      const dt = sim.scene!.timestep;
      const now = performance.now();
      const behind = this.#clock.target(now) - sim.time;
      const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
      if (hidden) {
        this.#rebase();
        return;
      }
      if (behind > (this.#o.maxLagSeconds ?? 1) && (this.#o.mode ?? 'auto') === 'auto') {
        this.#fallBack(`cannot keep real time: ${behind.toFixed(2)} s behind`);
        return;
      }
      // At most a quarter second per tick, so one slow tick cannot freeze the page.
      const steps = Math.min(Math.floor(behind / dt), Math.ceil(0.25 / dt));
      if (steps > 0) await sync.step(steps);
    };
    run()
      .catch((error: unknown) => this.#fallBack((error as Error).message))
      .finally(() => {
        if (!this.#closed && this.#mode.value.mode === 'browser') this.#timer = setTimeout(this.#tick, 8);
      });
  };

  /**
   * Keeps the browser `leadMs` ahead of the authority's clock: if the server runs slower or faster
   * than real time (a loaded host), or was reset, the browser's real-time target moves to match.
   */
  #follow(authorityTime: number): void {
    this.#clock.follow(authorityTime, (this.#o.leadMs ?? 100) / 1000, performance.now());
  }

  /** Real time restarts from where the simulation is (after a hidden tab). */
  #rebase(): void {
    if (this.#sim?.scene) this.#clock.restart(performance.now(), this.#sim.time);
  }

  #publish(report: DivergenceReport): void {
    if (this.#o.reportDivergence && !this.#o.reportDivergence()) return;
    try {
      this.#o.transport.publish(SimTopics.divergence, {
        header: this.#seq(),
        scene: report.scene,
        time: report.time,
        max: report.max,
        mean: report.mean,
        worst: report.worst || 'none',
        bodies: report.bodies.slice(0, 256).map((b) => ({ name: b.name, error: b.error })),
        correction: report.correction,
      });
    } catch {
      // Not allowed to publish it (a viewer): the page still shows it.
    }
  }

  #fallBack(reason: string): SimModeState {
    if (this.#timer) clearTimeout(this.#timer);
    const state: SimModeState = { mode: 'server', reason };
    if (!this.#closed) this.#mode.next(state);
    void this.#sim?.close();
    this.#sync?.close();
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
    return state;
  }

  /** Stops the browser simulator. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const s of [...this.#subs, ...this.#controls]) s.unsubscribe();
    this.#sync?.close();
    await this.#sim?.close();
    this.#mode.complete();
    this.divergence$.complete();
  }
}

function toSnapshot(s: SimSnapshotMessage) {
  return { scene: s.scene, engine: s.engine, time: s.time, data: s.data };
}
