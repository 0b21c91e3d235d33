import type { Observable } from 'rxjs';
import type { Header, Quaternion, Vector3 } from '../schemas/common.js';
import type { BodyState, CommandFate } from '../schemas/telemetry.js';
import type { Frame } from './media-source.js';

/** A scene to load: MJCF text, or a path or name the simulator resolves. */
export interface SceneSpec {
  /** The scene's name, reported in state and snapshots. */
  readonly id: string;
  /** MJCF document text. */
  readonly mjcf?: string;
  /** A path or a name the simulator knows (e.g. a bundled scene). */
  readonly path?: string;
}

/** What a loaded scene contains. */
export interface SceneInfo {
  readonly id: string;
  /** Physics step, seconds. */
  readonly timestep: number;
  readonly bodies: readonly string[];
  readonly joints: readonly string[];
  readonly actuators: readonly string[];
  readonly cameras: readonly string[];
  /** The scene has a mobile base that a twist drives. */
  readonly hasBase: boolean;
}

/** What the simulator can do; the conformance kit skips what is absent. */
export interface SimulatorCapabilities {
  /** A mobile base driven by twists. */
  readonly base: boolean;
  /** Joint targets. */
  readonly joints: boolean;
  /** Camera frames on `frames$`. */
  readonly camera: boolean;
  /** Bit-exact snapshot and restore (same state, same future). */
  readonly snapshot: boolean;
}

/** A command to the simulated robot. */
export type SimAction =
  | { readonly kind: 'twist'; readonly linear: Vector3; readonly angular: Vector3 }
  | {
      readonly kind: 'joints';
      readonly name: readonly string[];
      readonly position?: readonly number[];
      readonly velocity?: readonly number[];
      readonly effort?: readonly number[];
    }
  /** E-stop: stop every actuator and hold. Undone by the next other action. */
  | { readonly kind: 'freeze' };

/** The base's pose and velocity. */
export interface BaseState {
  readonly position: Vector3;
  readonly orientation: Quaternion;
  readonly linear: Vector3;
  readonly angular: Vector3;
}

/** The simulation's state after a step. */
export interface SimulatorState {
  readonly scene: string;
  /** Simulated time, seconds. */
  readonly time: number;
  readonly step: number;
  readonly bodies: readonly BodyState[];
  readonly joints: {
    readonly name: readonly string[];
    readonly position: readonly number[];
    readonly velocity: readonly number[];
  };
  readonly base?: BaseState;
}

/** What became of a command in the simulator, so the gateway can measure input→actuation. */
export interface SimActuation {
  /** The header of the command. */
  readonly command: Header;
  /** Applied, superseded by a newer one before the step, or expired before it could act. */
  readonly fate: CommandFate;
  /** When it took effect or was dropped, ms on the simulator's clock. */
  readonly at: number;
  /** When the command reached the simulator, ms on the same clock (optional): `at − receivedAt` is its wait for the step. */
  readonly receivedAt?: number;
  /** An applied command: the simulated time it acted from (the start of the step that applied it), s (optional). */
  readonly appliedSimTime?: number;
  /** Simulated time when it took effect, seconds. */
  readonly simTime: number;
}

/** The full state of a simulation, enough to restore it exactly. */
export interface SimSnapshot {
  readonly scene: string;
  /** The engine and its version, e.g. `mujoco 3.3.8`: a snapshot only restores into the same one. */
  readonly engine: string;
  readonly time: number;
  readonly data: Uint8Array;
}

/**
 * A physics simulator: loads a scene, steps it, takes actions, reports state, snapshots and
 * restores it, and (optionally) renders a camera.
 *
 * Implementations prove themselves with `describeSimulator` from `@telekit/testkit`.
 */
export interface Simulator {
  readonly name: string;
  readonly capabilities: SimulatorCapabilities;
  /** Loads a scene and resets to its initial state. Rejects with an error naming what is wrong. */
  loadScene(scene: SceneSpec): Promise<SceneInfo>;
  /** Back to the scene's initial state. */
  reset(): Promise<void>;
  /** Advances `n` physics steps (default 1) and returns the state after them. */
  step(n?: number): Promise<SimulatorState>;
  /** Sets the action applied from the next step on. `command` is the header of the command behind it. */
  act(action: SimAction, command?: Header): void;
  /** The state after every step. */
  readonly state$: Observable<SimulatorState>;
  /** Commands as they take effect. */
  readonly actuations$: Observable<SimActuation>;
  /** Camera frames, for simulators with the `camera` capability (otherwise it never emits). */
  readonly frames$: Observable<Frame>;
  snapshot(): Promise<SimSnapshot>;
  /** Restores a snapshot; rejects one from another scene or engine with an error naming the mismatch. */
  restore(snapshot: SimSnapshot): Promise<void>;
  /** Stops the simulator and completes its streams. Safe to call twice. */
  close(): Promise<void>;
}
