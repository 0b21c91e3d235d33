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
import { Observable, Subject } from 'rxjs';
import {
  advance,
  checkScene,
  ENGINE,
  encodeSnapshot,
  type PreparedAction,
  prepareAction,
  renderTopDown,
  restoreSnapshot,
  SCENE,
  sceneInfo,
  simTime,
  stateOf,
  stateVector,
} from './kinematic-model.js';

/** Options of {@link kinematicSim}. */
export interface KinematicSimOptions {
  clock?: Clock;
  /** Physics step, s. Default 0.01. */
  timestep?: number;
  /** Camera size; frames are rendered every `cameraEvery` steps while someone watches. */
  camera?: { width: number; height: number; every: number };
  /** How fast the base and joints reach their targets (first-order time constant), s. Default 0.05. */
  tau?: number;
}

/** An action waiting for the next step: what it drives, how to apply it, and the command behind it. */
interface Waiting extends PreparedAction {
  readonly command: Header | undefined;
  /** `clock` ms; undefined: never expires (a freeze, or an action without a header). */
  readonly deadline: number | undefined;
}

/**
 * An in-memory simulator: a differential-drive base (unicycle kinematics with first-order velocity
 * response) carrying a pan-tilt head, on flat ground. Deterministic, dependency-free, fast; the
 * reference that `describeSimulator` is checked against and the robot of the minimal demo.
 *
 * Commands follow the same rule as the server's sidecar: an action waits for the next step; one that
 * drives the same targets replaces it (`superseded`, or `estop` when a freeze does); at the step, one
 * past its deadline (`min(stamp, arrival) + (ttl ?? DEFAULT_TTL_MS)` on `clock`) is dropped
 * (`expired`), the others are applied (`applied`); an unknown joint is `refused`. Each command with
 * a header is reported once on `actuations$`.
 *
 * Scene: `{ id: 'diff-drive' }`. Bodies: `base`, `head`. Joints: `pan`, `tilt`.
 */
export function kinematicSim(options: KinematicSimOptions = {}): Simulator {
  const clock = options.clock ?? systemClock;
  const dt = options.timestep ?? 0.01;
  const tau = options.tau ?? 0.05;
  const camera = options.camera ?? { width: 64, height: 48, every: 3 };
  const s = stateVector();
  let steps = 0;
  let loaded = false;
  let closed = false;
  let waiting: Waiting[] = [];
  let watchers = 0;
  let frameSeq = 0;
  const state$ = new Subject<SimulatorState>();
  const actuations$ = new Subject<SimActuation>();
  const frames = new Subject<Frame>();

  const ensureOpen = (operation: string) => {
    if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation });
    if (!loaded)
      throw new TelekitError('E_SIM_NO_SCENE', 'no scene loaded: call loadScene first', { operation });
  };

  const render = (): Frame => {
    const { width, height } = camera;
    const data = renderTopDown(s, width, height);
    return { width, height, format: 'rgba', timestamp: clock.now(), seq: frameSeq++, data };
  };

  const report = (command: Header | undefined, fate: CommandFate) => {
    if (command) actuations$.next({ command, fate, at: clock.now(), simTime: simTime(s) });
  };

  /** Drops the waiting actions (a scene loaded, a reset, a restore): each is `superseded`. */
  const supersedeWaiting = () => {
    for (const w of waiting) report(w.command, 'superseded');
    waiting = [];
  };

  return {
    name: 'kinematic',
    capabilities: { base: true, joints: true, camera: true, snapshot: true },
    async loadScene(scene: SceneSpec): Promise<SceneInfo> {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
      checkScene(scene);
      loaded = true;
      s.fill(0);
      steps = 0;
      supersedeWaiting();
      return sceneInfo(dt);
    },
    async reset() {
      ensureOpen('reset');
      s.fill(0);
      steps = 0;
      supersedeWaiting();
    },
    async step(n = 1) {
      ensureOpen('step');
      if (!Number.isInteger(n) || n < 1) {
        throw new TelekitError('E_VALIDATION', 'step count must be a positive integer', {
          operation: 'step',
          context: { n },
        });
      }
      // The deadline is judged here, where the command acts.
      const now = clock.now();
      const due = waiting.filter((w) => w.deadline === undefined || now <= w.deadline);
      for (const w of waiting) if (!due.includes(w)) report(w.command, 'expired');
      waiting = [];
      for (const w of due) w.apply();
      for (let i = 0; i < n; i++) {
        advance(s, dt, tau);
        steps++;
        if (i === 0) for (const w of due) report(w.command, 'applied');
        if (watchers > 0 && steps % camera.every === 0) frames.next(render());
      }
      const st = stateOf(s, steps);
      state$.next(st);
      return st;
    },
    act(action: SimAction, command?: Header) {
      ensureOpen('act');
      const next = prepareAction(s, action, () => report(command, 'refused'));
      const now = clock.now();
      const deadline =
        next.freeze || !command ? undefined : Math.min(command.stamp, now) + (command.ttl ?? DEFAULT_TTL_MS);
      if (deadline !== undefined && now > deadline) return report(command, 'expired');
      // A newer action replaces the waiting ones whose targets it all drives.
      waiting = waiting.filter((w) => {
        const covered = w.targets.every((t) => next.targets.includes(t));
        if (covered) report(w.command, next.freeze && !w.freeze ? 'estop' : 'superseded');
        return !covered;
      });
      waiting.push({ ...next, command, deadline });
    },
    state$: state$.asObservable(),
    actuations$: actuations$.asObservable(),
    frames$: new Observable<Frame>((subscriber) => {
      watchers++;
      const sub = frames.subscribe(subscriber);
      return () => {
        watchers--;
        sub.unsubscribe();
      };
    }),
    async snapshot(): Promise<SimSnapshot> {
      ensureOpen('snapshot');
      return { scene: SCENE, engine: ENGINE, time: simTime(s), data: encodeSnapshot(s, steps) };
    },
    async restore(snapshot: SimSnapshot) {
      ensureOpen('restore');
      steps = restoreSnapshot(s, snapshot);
      supersedeWaiting();
    },
    async close() {
      if (closed) return;
      closed = true;
      state$.complete();
      actuations$.complete();
      frames.complete();
    },
  };
}
