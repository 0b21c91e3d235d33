import {
  type Clock,
  DEFAULT_TTL_MS,
  type Header,
  type Simulator,
  systemClock,
  TelekitError,
} from '@telekit/core';
import type {
  Frame,
  SceneInfo,
  SceneSpec,
  SimAction,
  SimActuation,
  SimSnapshot,
  SimulatorState,
} from '@telekit/core/contracts';
import type { CommandFate } from '@telekit/core/schemas';
import { Subject } from 'rxjs';

// ---------------------------------------------------------------------------------------- the engine
// Your physics library goes here (MuJoCo, Rapier, a robot's own model…). This one is a unicycle: a
// base whose speed and turn rate follow their targets with a first-order lag. Its whole state is one
// array of numbers, which is what makes a snapshot exact.
const X = 0;
const Y = 1;
const YAW = 2;
const V = 3;
const W = 4;
const V_TARGET = 5;
const W_TARGET = 6;
const TIME = 7;
const SIZE = 8;

function advance(s: Float64Array, dt: number, tau: number): void {
  const a = dt / (tau + dt);
  s[V] = s[V]! + a * (s[V_TARGET]! - s[V]!);
  s[W] = s[W]! + a * (s[W_TARGET]! - s[W]!);
  s[YAW] = s[YAW]! + s[W]! * dt;
  s[X] = s[X]! + s[V]! * Math.cos(s[YAW]!) * dt;
  s[Y] = s[Y]! + s[V]! * Math.sin(s[YAW]!) * dt;
  s[TIME] = s[TIME]! + dt;
}

// ---------------------------------------------------------------------------------------- the adapter
/** Options of {@link unicycleSim}. */
export interface UnicycleSimOptions {
  /** The clock command deadlines are judged on: the app's (`ctx.clock`). Default `systemClock`. */
  clock?: Clock;
  /** Physics step, s. Default 0.01. */
  timestep?: number;
}

const SCENE = 'unicycle';
const ENGINE = 'unicycle 1';

/** A command waiting for the next step. */
interface Waiting {
  readonly action: SimAction;
  readonly command: Header | undefined;
  /** When it receives, on the clock; the gateway splits input→actuation there. */
  readonly receivedAt: number;
  /** Past this (clock ms) it must not act; undefined: never expires (a freeze, a command without a header). */
  readonly deadline: number | undefined;
}

/**
 * A Telekit simulator around the unicycle engine: scene `{ id: 'unicycle' }`, one body (`base`),
 * a base driven by twists, exact snapshots, no joints, no camera.
 */
export function unicycleSim(options: UnicycleSimOptions = {}): Simulator {
  const clock = options.clock ?? systemClock;
  const dt = options.timestep ?? 0.01;
  const s = new Float64Array(SIZE);
  let steps = 0;
  let loaded = false;
  let closed = false;
  let waiting: Waiting | undefined;
  const state$ = new Subject<SimulatorState>();
  const actuations$ = new Subject<SimActuation>();
  const frames$ = new Subject<Frame>(); // no camera: never emits, completes on close

  const ensureOpen = (operation: string) => {
    if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation });
    if (!loaded)
      throw new TelekitError('E_SIM_NO_SCENE', 'no scene loaded: call loadScene first', { operation });
  };

  /** One report per command that has a header. */
  const report = (w: Waiting | undefined, fate: CommandFate) => {
    if (!w?.command) return;
    actuations$.next({
      command: w.command,
      fate,
      at: clock.now(),
      receivedAt: w.receivedAt,
      simTime: s[TIME]!,
      ...(fate === 'applied' ? { appliedSimTime: s[TIME]! - dt } : {}),
    });
  };

  /** Back to the scene's start; a command still waiting will never act. */
  const restart = () => {
    s.fill(0);
    steps = 0;
    report(waiting, 'superseded');
    waiting = undefined;
  };

  const state = (): SimulatorState => {
    const q = { x: 0, y: 0, z: Math.sin(s[YAW]! / 2), w: Math.cos(s[YAW]! / 2) };
    const position = { x: s[X]!, y: s[Y]!, z: 0.1 };
    return {
      scene: SCENE,
      time: s[TIME]!,
      step: steps,
      bodies: [{ name: 'base', position, orientation: q }],
      joints: { name: [], position: [], velocity: [] },
      base: {
        position,
        orientation: q,
        // In the base's own frame: forward speed and yaw rate.
        linear: { x: s[V]!, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: s[W]! },
      },
    };
  };

  return {
    name: 'unicycle',
    capabilities: { base: true, joints: false, camera: false, snapshot: true },

    async loadScene(scene: SceneSpec): Promise<SceneInfo> {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
      const name = scene.path ?? scene.id;
      // Check everything before touching the state: a scene that fails leaves the old one running.
      if (scene.mjcf !== undefined || name !== SCENE)
        throw new TelekitError('E_SIM_SCENE', `unknown scene; this simulator knows ${SCENE}`, {
          operation: 'loadScene',
          context: { scene: name },
        });
      loaded = true;
      restart();
      return {
        id: SCENE,
        timestep: dt,
        bodies: ['base'],
        joints: [],
        actuators: ['drive'],
        cameras: [],
        hasBase: true,
      };
    },

    async reset() {
      ensureOpen('reset');
      restart();
    },

    act(action: SimAction, command?: Header) {
      ensureOpen('act');
      const now = clock.now();
      if (action.kind === 'joints') {
        const w = { action, command, receivedAt: now, deadline: undefined };
        report(w, 'refused');
        throw new TelekitError('E_VALIDATION', 'this simulator has no joints', {
          operation: 'act',
          context: { joint: action.name.join(',') },
        });
      }
      // The deadline travels with the command: its stamp (or its arrival, if earlier) plus its ttl.
      const deadline =
        action.kind === 'freeze' || !command
          ? undefined
          : Math.min(command.stamp, now) + (command.ttl ?? DEFAULT_TTL_MS);
      const next: Waiting = { action, command, receivedAt: now, deadline };
      if (deadline !== undefined && now > deadline) return report(next, 'expired');
      // Latest wins: a newer command replaces the one waiting (an e-stop says so).
      report(waiting, action.kind === 'freeze' && waiting?.action.kind !== 'freeze' ? 'estop' : 'superseded');
      waiting = next;
    },

    async step(n = 1) {
      ensureOpen('step');
      if (!Number.isInteger(n) || n < 1)
        throw new TelekitError('E_VALIDATION', 'step count must be a positive integer', {
          operation: 'step',
          context: { n },
        });
      // A waiting command acts from this step on, unless its deadline passed while it waited.
      const due = waiting;
      waiting = undefined;
      let applied: Waiting | undefined;
      if (due?.deadline !== undefined && clock.now() > due.deadline) report(due, 'expired');
      else if (due) {
        const { action } = due;
        s[V_TARGET] = action.kind === 'twist' ? action.linear.x : 0;
        s[W_TARGET] = action.kind === 'twist' ? action.angular.z : 0;
        if (action.kind === 'freeze') s[V] = s[W] = 0;
        applied = due;
      }
      for (let i = 0; i < n; i++) {
        advance(s, dt, 0.05);
        steps++;
        if (i === 0) report(applied, 'applied');
      }
      const after = state();
      state$.next(after);
      return after;
    },

    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$: frames$.asObservable(),

    async snapshot(): Promise<SimSnapshot> {
      ensureOpen('snapshot');
      const data = new Uint8Array(new Float64Array([...s, steps]).buffer);
      return { scene: SCENE, engine: ENGINE, time: s[TIME]!, data };
    },

    async restore(snapshot: SimSnapshot) {
      ensureOpen('restore');
      for (const [field, expected] of [
        ['scene', SCENE],
        ['engine', ENGINE],
      ] as const)
        if (snapshot[field] !== expected)
          throw new TelekitError('E_SIM_SNAPSHOT', `snapshot is from another ${field}`, {
            operation: 'restore',
            context: { expected, received: snapshot[field] },
          });
      if (snapshot.data.byteLength !== (SIZE + 1) * 8)
        throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot has the wrong size', {
          operation: 'restore',
          context: { expected: (SIZE + 1) * 8, received: snapshot.data.byteLength },
        });
      const values = new Float64Array(snapshot.data.slice().buffer);
      restart();
      s.set(values.subarray(0, SIZE));
      steps = values[SIZE]!;
    },

    async close() {
      if (closed) return;
      closed = true;
      report(waiting, 'superseded');
      waiting = undefined;
      state$.complete();
      actuations$.complete();
      frames$.complete();
    },
  };
}
