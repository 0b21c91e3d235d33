import type { ChildProcess } from 'node:child_process';
import type { Clock, HealthReport, Logger, Simulator } from '@telekit/core';
import type { SimAction, SimActuation, SimSnapshot, SimulatorState } from '@telekit/core/contracts';
import type { CommandFate, Quaternion, SimScene } from '@telekit/core/schemas';
import type { Observable } from 'rxjs';
import type { SidecarConnection } from './sidecar-connection.js';
import type { FrameTiming, SidecarCameraPerf, SidecarCpu, SidecarPerf } from './sidecar-perf.js';

/**
 * Which physics engine the sidecar runs: `mujoco`, `genesis`, or a backend of your own as
 * `package.module:Class` (a Python class following the sidecar's `Backend` protocol, importable by
 * the sidecar's Python).
 */
export type Backend = 'mujoco' | 'genesis' | (string & {});

/** The sidecar's own deadman: how long it keeps the robot moving without being told to, ms. */
export interface DeadmanOptions {
  /**
   * While running, no command applied for this long stops the robot (velocity and effort targets to
   * zero, positions held). Default 500: twice the gateway's deadman, which normally acts first.
   */
  commandMs?: number;
  /**
   * While running, this long without a ping from this supervisor stops the robot too, and commands
   * are refused until the pings are back. Default the larger of 1 000 and four heartbeats.
   */
  heartbeatMs?: number;
}

/** Options of {@link sidecarSimulator}. */
export interface SidecarSimulatorOptions {
  /** Default `mujoco` (CPU); `genesis` on a GPU host. */
  backend?: Backend;
  /**
   * Use a sidecar already running elsewhere (`host:port` or `unix:/path`) instead of starting one.
   * Its deadman and parent watch are its own (set on its command line).
   */
  connect?: string;
  /** The token a sidecar given in `connect` wants in `hello`. Default `$TELEKIT_SIM_TOKEN`. */
  token?: string;
  /** The Python that has `telekit_sim` installed. Default: `$TELEKIT_PYTHON`, else the nearest `.venv`, else `python3`. */
  python?: string;
  logger?: Logger;
  /** The clock that commands are stamped on (the sidecar maps its own to it from the pings). Default `systemClock`. */
  clock?: Clock;
  /** Restart backoff after a crash or hang, ms. Defaults 250 → 5 000, doubling. */
  restartDelayMs?: { initial: number; max: number };
  /**
   * How often to ping the sidecar (its heartbeat, and the samples that map its clock to Node's), and
   * how long it may leave a ping unanswered before it counts as hung, ms. Defaults 250 and 3 000.
   * Only time during which Node's own event loop ran counts: a starved Node never restarts a
   * healthy sidecar.
   */
  heartbeat?: { everyMs: number; timeoutMs: number };
  /** The sidecar's own deadman (a sidecar this simulator starts). */
  deadman?: DeadmanOptions;
  /** How often to keep a snapshot for restoring after a restart, ms. Default 1 000. */
  snapshotEveryMs?: number;
  /**
   * How long one request may take, ms. Default 30 000. Not scene loads: those are judged by their
   * progress (`warmup`).
   */
  requestTimeoutMs?: number;
  /**
   * Scene loads (a warm-up: Genesis compiles its kernels, minutes on a CPU the first time). While a
   * load runs, the sidecar is not judged by its pings (Genesis's compiler can hold it for seconds at
   * a time) but by signs of life: a progress event, an answered ping, or CPU time spent (a sidecar
   * this simulator started). Only `idleMs` without any of them counts as hung: it is restarted. A
   * sidecar that is compiling is never restarted. Default `idleMs` 600 000.
   */
  warmup?: { idleMs?: number };
  /**
   * Where the Genesis backend keeps its compiled kernels and processed meshes (`kernels/`,
   * `genesis/`), so that a second start is fast. Default `$TELEKIT_GENESIS_CACHE`, else
   * `.cache/telekit/genesis` under the current directory (beside the app).
   */
  genesisCache?: string;
  /** Default camera for `frames$`. */
  camera?: CameraOptions;
  /**
   * Threads the software renderer (Mesa's llvmpipe, under `MUJOCO_GL=osmesa`) may use to rasterise
   * the camera: its `LP_NUM_THREADS`. Default 1 (or `$LP_NUM_THREADS`): the camera never takes more
   * than about one core from the browser and the encoder on a small machine. 0 rasterises on the
   * render thread itself.
   */
  renderThreads?: number;
  /** How often to ask the sidecar what it spends (CPU by part, the camera's frames), ms. Default 1 000. */
  perfEveryMs?: number;
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
  /** `rgba` (default) or `rgb` (a quarter fewer bytes to the encoder, and what MuJoCo renders). */
  format?: 'rgb' | 'rgba';
  /** Anti-aliasing samples (MSAA). Default 0: on a software renderer 4 samples cost about twice as much. */
  samples?: number;
  /** Shadows. Default false (the scene's lights decide whether any are cast). */
  shadows?: boolean;
  /** Reflections on reflective materials. Default false. */
  reflections?: boolean;
}

/** The sidecar's health, as `health()` reports it. Never its address or token. */
export interface SidecarHealth extends HealthReport {
  readonly data: {
    restarts: number;
    backend: Backend;
    engine: string | undefined;
    /** `unix` (a private socket this simulator made) or `tcp` (a sidecar given in `connect`). */
    transport: 'unix' | 'tcp';
    realtimeFactor: number;
    /** How late Node's own heartbeat timer ran at its latest tick, ms (a busy event loop). */
    nodeLagMs: number;
    /** How long the sidecar took to answer its latest ping, by its own clock, ms. */
    sidecarAnswerMs: number | undefined;
    /** The sidecar's CPU by part, in cores, over the last second (once it has been sampled twice). */
    cpu?: SidecarCpu;
    /** The camera: on or off, frames rendered, sent and dropped, fps, render time. */
    camera?: SidecarCameraPerf;
    /** The scene loaded, if any: a sidecar without one is not healthy. */
    scene: string | undefined;
    /** While a scene loads: its latest progress. */
    warmup?: SidecarProgress;
  };
}

/**
 * A step of a scene load, as the sidecar reports it when the step starts (and again every 5 s while
 * it lasts): `start`, `scene` (MuJoCo's compiler reads the file), `import` (Genesis and PyTorch),
 * `build` (Genesis builds the scene and compiles its kernels), `warmup` (the kernels of a step, a
 * command and a snapshot), `reset` (the same scene again), then `ready` or `failed`.
 */
export interface SidecarProgress {
  readonly scene: string;
  readonly phase: string;
  /** What it does and, for a long step, how long it may take. */
  readonly message: string;
  /** Since the load started, ms. */
  readonly elapsedMs: number;
  /** A repeat of the step under way (sent every 5 s while it lasts). */
  readonly repeat?: boolean;
}

/** What became of a command in the sidecar, with the kind of action it carried. */
export interface SidecarActuation extends SimActuation {
  /** The action's kind (`twist`, `joints`, `freeze`), when it had a valid one. */
  readonly kind?: SimAction['kind'];
}

/** The sidecar's own counts, from {@link SidecarSimulator.stats}. */
export interface SidecarStats {
  /** Commands by fate since the sidecar started. */
  readonly fates: Readonly<Record<CommandFate, number>>;
  /** Times its deadman stopped the robot. */
  readonly deadmanTrips: number;
  /** Commands waiting for the next step. */
  readonly waiting: number;
  /** The oldest any applied command was when it was applied (now − stamp), ms. */
  readonly oldestAppliedMs: number;
  /** Its clock against Node's: the offset it uses, and whether a ping set it. */
  readonly clock: { readonly offsetMs: number; readonly synced: boolean };
}

/** The core `Simulator`, plus what a real-time server simulator adds. */
export interface SidecarSimulator extends Simulator {
  /** What became of each command: one report per `act` that carried a header. */
  readonly actuations$: Observable<SidecarActuation>;
  /** Steps in real time in the sidecar, sending state at `stateHz`. */
  run(options?: { stateHz?: number }): Promise<void>;
  pause(): Promise<void>;
  /** Starts (or with `enabled: false` stops) the camera. */
  camera(options: CameraOptions & { enabled?: boolean }): Promise<void>;
  /**
   * Makes the camera's renderer now (a software GL context takes a few hundred ms) without turning
   * the camera on, so the first viewer does not wait for it. Nothing renders afterwards.
   */
  prepareCamera(options: CameraOptions): Promise<void>;
  /** The sidecar's counts: commands by fate, deadman trips, its clock. */
  stats(): Promise<SidecarStats>;
  /**
   * A pose snapshot: every body's pose and velocity and every hinge and slide joint's position and
   * velocity (the scene conventions' `telekit.poses/1`, UTF-8 JSON in `data`). Unlike
   * {@link Simulator.snapshot}, another engine can take it: a browser running MuJoCo follows a
   * Genesis server by it.
   */
  poseSnapshot(): Promise<SimSnapshot>;
  /**
   * What the loaded scene looks like — bodies, geoms, meshes, materials, textures, lights, from its
   * MuJoCo model — as core's `/telemetry/sim_scene` carries it (without the header): the page's 3D
   * view draws it in server mode. Rejects with `E_SIM_BACKEND` where the backend cannot say.
   */
  sceneDescription(): Promise<Omit<SimScene, 'header'>>;
  /** Each step of a scene load (a Genesis warm-up compiles for minutes the first time). */
  readonly progress$: Observable<SidecarProgress>;
  /**
   * Another connection to the sidecar, authenticated, for an observer or a drill (it sees `state`
   * and `deadman` events). The caller closes it.
   */
  openConnection(): Promise<SidecarConnection>;
  health(): SidecarHealth;
  /** Restarts so far. */
  readonly restarts: number;
  /** The engine, e.g. `mujoco 3.14.0`, once connected. */
  readonly engine: string | undefined;
  /** The sidecar process (when this simulator started it), for tests and drills. */
  readonly process: ChildProcess | undefined;
  /** What the sidecar spends (CPU by part, in cores) and its camera, as of the last sample (each `perfEveryMs`). */
  readonly perf: SidecarPerf | undefined;
  /**
   * Each frame the camera hands to its sink, with when it was rendered and sent (ms, Node's clock),
   * a second or so after the fact: the first stages of the video's latency budget.
   */
  readonly frameTimings$: Observable<FrameTiming>;
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
