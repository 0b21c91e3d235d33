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

const ENGINE = 'kinematic 1';
const SCENE = 'diff-drive';
const JOINTS = ['pan', 'tilt'] as const;
/** Layout of the state vector (and of a snapshot). */
const N = 12; // x y yaw v w vTarget wTarget pan tilt panTarget tiltTarget time

/** An action waiting for the next step: what it drives, how to apply it, and the command behind it. */
interface Waiting {
  readonly targets: readonly string[];
  readonly apply: () => void;
  readonly freeze: boolean;
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
  const s = new Float64Array(N);
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

  const snapshotState = (): SimulatorState => {
    const [x, y, yaw, v, w] = [s[0]!, s[1]!, s[2]!, s[3]!, s[4]!];
    const q = { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
    return {
      scene: SCENE,
      time: s[11]!,
      step: steps,
      bodies: [
        { name: 'base', position: { x, y, z: 0.1 }, orientation: q },
        { name: 'head', position: { x, y, z: 0.4 }, orientation: q },
      ],
      joints: { name: [...JOINTS], position: [s[7]!, s[8]!], velocity: [0, 0] },
      base: {
        position: { x, y, z: 0.1 },
        orientation: q,
        linear: { x: v, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: w },
      },
    };
  };

  const render = (): Frame => {
    const { width, height } = camera;
    const data = new Uint8Array(width * height * 4);
    // A top-down view of a 4 m square around the origin, the robot as a bright square.
    const px = Math.round(((s[0]! + 2) / 4) * (width - 1));
    const py = Math.round(((2 - s[1]!) / 4) * (height - 1));
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const i = (row * width + col) * 4;
        const robot = Math.abs(col - px) <= 1 && Math.abs(row - py) <= 1;
        data[i] = robot ? 255 : 40;
        data[i + 1] = robot ? 200 : (row + col) % 8 === 0 ? 90 : 60;
        data[i + 2] = robot ? 0 : 60;
        data[i + 3] = 255;
      }
    }
    return { width, height, format: 'rgba', timestamp: clock.now(), seq: frameSeq++, data };
  };

  const report = (command: Header | undefined, fate: CommandFate) => {
    if (command) actuations$.next({ command, fate, at: clock.now(), simTime: s[11]! });
  };

  const advance = () => {
    const a = dt / (tau + dt);
    s[3] = s[3]! + a * (s[5]! - s[3]!);
    s[4] = s[4]! + a * (s[6]! - s[4]!);
    s[2] = s[2]! + s[4]! * dt;
    s[0] = s[0]! + s[3]! * Math.cos(s[2]!) * dt;
    s[1] = s[1]! + s[3]! * Math.sin(s[2]!) * dt;
    s[7] = s[7]! + a * (s[9]! - s[7]!);
    s[8] = s[8]! + a * (s[10]! - s[8]!);
    s[11] = s[11]! + dt;
    steps++;
  };

  return {
    name: 'kinematic',
    capabilities: { base: true, joints: true, camera: true, snapshot: true },
    async loadScene(scene: SceneSpec): Promise<SceneInfo> {
      if (closed) throw new TelekitError('E_SIM_CLOSED', 'simulator is closed', { operation: 'loadScene' });
      if (scene.mjcf !== undefined) {
        throw new TelekitError('E_SIM_SCENE', 'the kinematic simulator does not load MJCF', {
          operation: 'loadScene',
          context: { scene: scene.id },
        });
      }
      if ((scene.path ?? scene.id) !== SCENE) {
        throw new TelekitError('E_SIM_SCENE', `unknown scene; this simulator knows ${SCENE}`, {
          operation: 'loadScene',
          context: { scene: scene.path ?? scene.id },
        });
      }
      loaded = true;
      s.fill(0);
      steps = 0;
      for (const w of waiting) report(w.command, 'superseded');
      waiting = [];
      return {
        id: SCENE,
        timestep: dt,
        bodies: ['base', 'head'],
        joints: [...JOINTS],
        actuators: ['left', 'right', ...JOINTS],
        cameras: ['top'],
        hasBase: true,
      };
    },
    async reset() {
      ensureOpen('reset');
      s.fill(0);
      steps = 0;
      for (const w of waiting) report(w.command, 'superseded');
      waiting = [];
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
        advance();
        if (i === 0) for (const w of due) report(w.command, 'applied');
        if (watchers > 0 && steps % camera.every === 0) frames.next(render());
      }
      const st = snapshotState();
      state$.next(st);
      return st;
    },
    act(action: SimAction, command?: Header) {
      ensureOpen('act');
      let next: Pick<Waiting, 'targets' | 'apply' | 'freeze'>;
      switch (action.kind) {
        case 'twist': {
          const [v, w] = [action.linear.x, action.angular.z];
          next = {
            targets: ['base'],
            freeze: false,
            apply: () => {
              s[5] = v;
              s[6] = w;
            },
          };
          break;
        }
        case 'joints': {
          const set: [number, number][] = [];
          action.name.forEach((jn, i) => {
            const j = JOINTS.indexOf(jn as (typeof JOINTS)[number]);
            if (j < 0) {
              report(command, 'refused');
              throw new TelekitError('E_VALIDATION', 'unknown joint', {
                operation: 'act',
                context: { joint: jn },
              });
            }
            const target = action.position?.[i];
            if (target !== undefined) set.push([9 + j, target]);
          });
          next = {
            targets: action.name,
            freeze: false,
            apply: () => {
              for (const [k, target] of set) s[k] = target;
            },
          };
          break;
        }
        case 'freeze':
          next = {
            targets: ['base', ...JOINTS],
            freeze: true,
            apply: () => {
              s[3] = s[4] = s[5] = s[6] = 0;
              s[9] = s[7]!;
              s[10] = s[8]!;
            },
          };
          break;
      }
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
      const data = new Uint8Array(new Float64Array([...s, steps]).buffer);
      return { scene: SCENE, engine: ENGINE, time: s[11]!, data };
    },
    async restore(snapshot: SimSnapshot) {
      ensureOpen('restore');
      if (snapshot.scene !== SCENE) {
        throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot is from another scene', {
          operation: 'restore',
          context: { expected: SCENE, received: snapshot.scene },
        });
      }
      if (snapshot.engine !== ENGINE) {
        throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot is from another engine', {
          operation: 'restore',
          context: { expected: ENGINE, received: snapshot.engine },
        });
      }
      if (snapshot.data.byteLength !== (N + 1) * 8) {
        throw new TelekitError('E_SIM_SNAPSHOT', 'snapshot has the wrong size', {
          operation: 'restore',
          context: { expected: (N + 1) * 8, received: snapshot.data.byteLength },
        });
      }
      const values = new Float64Array(snapshot.data.slice().buffer);
      s.set(values.subarray(0, N));
      steps = values[N]!;
      for (const w of waiting) report(w.command, 'superseded');
      waiting = [];
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
