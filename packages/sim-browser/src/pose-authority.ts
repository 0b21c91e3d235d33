/**
 * Following an authority that runs another engine: the page simulates the scene on MuJoCo's
 * WebAssembly build while the server runs Genesis. A byte snapshot restores only into the engine
 * that took it; a pose snapshot (`pose-snapshot.ts`) carries what MuJoCo needs instead.
 *
 * The algorithm, in the order it runs:
 *
 * 1. {@link followAnyEngine} wraps the page's simulator so that {@link AuthoritySync} takes pose
 *    snapshots as it takes byte snapshots: everything else (history, rollback and replay of the
 *    page's inputs, blending, placing commands where the authority applied them) is the same.
 * 2. Measuring (`bodiesOf`): the authority's body poses, in the page's body order, by name.
 * 3. Correcting (`restore`): the page's own state, with the authority's time, every free joint set
 *    from its body's pose and velocity and every hinge and slide set from the joint's position and
 *    velocity; what the pose snapshot does not carry (actuator inputs, the solver's warm start) stays
 *    the page's — the replay sets the inputs again.
 * 4. Judging ({@link CrossEngineGuard}): two engines never agree exactly, so the divergence at each
 *    snapshot (how far the page's prediction had drifted since the last one) is what they disagree
 *    by. When its median over a window stays above a limit, the page falls back to server mode,
 *    saying so with the figure.
 *
 * @module
 */
import type { MjModel } from '@mujoco/mujoco';
import { TelekitError } from '@telekit/core';
import type { SimSnapshot } from '@telekit/core/contracts';
import type { BodyState } from '@telekit/core/schemas';
import type { DivergenceReport } from './authority-sync.js';
import type { Mujoco } from './engine.js';
import { decodePoseSnapshot, isPoseSnapshot, type PoseSnapshot } from './pose-snapshot.js';
import type { SceneFiles } from './scene.js';
import type { WasmSimulator } from './wasm-simulator.js';

/** Where a scene's joints sit in MuJoCo's state: what a pose snapshot is written into. */
export interface SceneLayout {
  /** Position and velocity coordinates. */
  readonly nq: number;
  readonly nv: number;
  /** Free joints, by the body they move. */
  readonly free: readonly { readonly body: string; readonly qpos: number; readonly dof: number }[];
  /** Hinges and slides, by name. */
  readonly joints: readonly { readonly name: string; readonly qpos: number; readonly dof: number }[];
}

/** Reads a scene's layout by compiling it once more (a model only, never stepped). */
export function sceneLayout(mj: Mujoco, scene: SceneFiles): SceneLayout {
  const vfs = new mj.MjVFS();
  let model: MjModel | undefined;
  try {
    for (const [name, bytes] of scene.files) vfs.addBuffer(name, bytes);
    model = mj.MjModel.from_xml_path(scene.main, vfs);
    const types = model.jnt_type as Int32Array;
    const bodyOf = model.jnt_bodyid as Int32Array;
    const qposadr = model.jnt_qposadr as Int32Array;
    const dofadr = model.jnt_dofadr as Int32Array;
    const name = (type: number, i: number) => mj.mj_id2name(model!, type, i) || '';
    const free: { body: string; qpos: number; dof: number }[] = [];
    const joints: { name: string; qpos: number; dof: number }[] = [];
    for (let j = 0; j < model.njnt; j++) {
      const t = types[j]!;
      if (t === mj.mjtJoint.mjJNT_FREE.value)
        free.push({ body: name(mj.mjtObj.mjOBJ_BODY.value, bodyOf[j]!), qpos: qposadr[j]!, dof: dofadr[j]! });
      else if (t === mj.mjtJoint.mjJNT_HINGE.value || t === mj.mjtJoint.mjJNT_SLIDE.value)
        joints.push({ name: name(mj.mjtObj.mjOBJ_JOINT.value, j), qpos: qposadr[j]!, dof: dofadr[j]! });
    }
    return { nq: model.nq, nv: model.nv, free, joints };
  } finally {
    model?.delete();
    vfs.delete();
  }
}

/**
 * The page's simulator, taking pose snapshots from an authority on another engine as well as its
 * own engine's byte snapshots (passed through unchanged). Give it to {@link AuthoritySync}.
 * `layout` is asked for once, at the first pose snapshot restored.
 *
 * @example
 * ```ts
 * const sim = wasmSimulator({ engine, scenes });
 * await sim.loadScene(scene);
 * const sync = new AuthoritySync(followAnyEngine(sim, async () => sceneLayout(engine, await scenes(scene))));
 * await sync.adopt(snapshotFromAGenesisServer); // a pose snapshot
 * ```
 */
export function followAnyEngine(sim: WasmSimulator, layout: () => Promise<SceneLayout>): WasmSimulator {
  let known: Promise<SceneLayout> | undefined;
  const foreign = (snapshot: SimSnapshot) => snapshot.engine !== sim.engine && isPoseSnapshot(snapshot.data);

  const bodiesOf = (snapshot: SimSnapshot): BodyState[] => {
    if (!foreign(snapshot)) return sim.bodiesOf(snapshot);
    const scene = sameScene(sim, snapshot);
    const theirs = new Map(decodePoseSnapshot(snapshot.data).bodies.map((b) => [b.name, b]));
    return scene.bodies.map((name) => {
      const body = theirs.get(name);
      if (!body)
        throw new TelekitError(
          'E_SIM_SNAPSHOT',
          `the authority (${snapshot.engine}) reports no body ${name} of scene ${scene.id}`,
          { operation: 'bodiesOf', context: { field: 'bodies' } },
        );
      return { name, position: body.position, orientation: body.orientation };
    });
  };

  const restore = async (snapshot: SimSnapshot): Promise<void> => {
    if (!foreign(snapshot)) return sim.restore(snapshot);
    sameScene(sim, snapshot);
    const poses = decodePoseSnapshot(snapshot.data);
    known ??= layout();
    const l = await known;
    const own = await sim.snapshot();
    await sim.restore({ ...own, time: snapshot.time, data: writePoses(own.data, l, poses, snapshot) });
  };

  return new Proxy(sim, {
    get(target, key) {
      if (key === 'bodiesOf') return bodiesOf;
      if (key === 'restore') return restore;
      // The target as `this` for its getters too (private fields cannot be read through the proxy).
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function sameScene(sim: WasmSimulator, snapshot: SimSnapshot) {
  const scene = sim.scene;
  if (!scene)
    throw new TelekitError('E_SIM_NO_SCENE', 'no scene loaded: call loadScene first', {
      operation: 'restore',
    });
  if (snapshot.scene !== scene.id)
    throw new TelekitError(
      'E_SIM_SNAPSHOT',
      `snapshot is from scene ${snapshot.scene}, this is ${scene.id}`,
      {
        operation: 'restore',
        context: { field: 'scene' },
      },
    );
  return scene;
}

/**
 * MuJoCo's integration state (`mjSTATE_INTEGRATION`: time, qpos, qvel, then the rest) with the
 * authority's time, free bodies and joints written in.
 */
function writePoses(
  bytes: Uint8Array,
  l: SceneLayout,
  poses: PoseSnapshot,
  snapshot: SimSnapshot,
): Uint8Array {
  const state = new Float64Array(bytes.slice().buffer);
  const qpos = 1;
  const qvel = 1 + l.nq;
  state[0] = snapshot.time;
  const bodies = new Map(poses.bodies.map((b) => [b.name, b]));
  for (const f of l.free) {
    const b = bodies.get(f.body);
    if (!b)
      throw new TelekitError(
        'E_SIM_SNAPSHOT',
        `the authority (${snapshot.engine}) reports no body ${f.body}, which has a free joint here`,
        { operation: 'restore', context: { field: 'bodies' } },
      );
    const q = b.orientation;
    const n = Math.hypot(q.w, q.x, q.y, q.z) || 1;
    state.set([b.position.x, b.position.y, b.position.z, q.w / n, q.x / n, q.y / n, q.z / n], qpos + f.qpos);
    // A free joint's velocity: the origin's along the world axes, then the angular one in the body's frame.
    const w = rotateInverse({ w: q.w / n, x: q.x / n, y: q.y / n, z: q.z / n }, b.angular);
    state.set([b.linear.x, b.linear.y, b.linear.z, w.x, w.y, w.z], qvel + f.dof);
  }
  const joints = new Map(poses.joints.map((j) => [j.name, j]));
  for (const j of l.joints) {
    const theirs = joints.get(j.name);
    if (!theirs) continue;
    state[qpos + j.qpos] = theirs.position;
    state[qvel + j.dof] = theirs.velocity;
  }
  return new Uint8Array(state.buffer);
}

/** `v` (world axes) in the frame of orientation `q`: R(q)ᵀ v. */
function rotateInverse(
  q: { w: number; x: number; y: number; z: number },
  v: { x: number; y: number; z: number },
): { x: number; y: number; z: number } {
  // Rotating by the conjugate: v + 2w(u × v) + 2u × (u × v), with u = −(x, y, z).
  const ux = -q.x;
  const uy = -q.y;
  const uz = -q.z;
  const tx = 2 * (uy * v.z - uz * v.y);
  const ty = 2 * (uz * v.x - ux * v.z);
  const tz = 2 * (ux * v.y - uy * v.x);
  return {
    x: v.x + q.w * tx + (uy * tz - uz * ty),
    y: v.y + q.w * ty + (uz * tx - ux * tz),
    z: v.z + q.w * tz + (ux * ty - uy * tx),
  };
}

/** Options of {@link CrossEngineGuard}. */
export interface CrossEngineGuardOptions {
  /** The largest median divergence the page accepts from an authority on another engine, m. Default 0.05. */
  maxDivergence?: number;
  /** Snapshots the median is taken over (and needed before judging). Default 20 (2 s at 10 Hz). */
  window?: number;
}

/**
 * Whether the page may keep following an authority on another engine: the divergence at each
 * snapshot is how far the two engines drifted apart since the one before (the page corrects at
 * each). Reports from an authority on the page's own engine are not judged (they agree bit for bit
 * when nothing differs).
 */
export class CrossEngineGuard {
  readonly #max: number;
  readonly #window: number;
  readonly #recent: number[] = [];

  constructor(options: CrossEngineGuardOptions = {}) {
    this.#max = options.maxDivergence ?? 0.05;
    this.#window = Math.max(1, Math.round(options.window ?? 20));
  }

  /** The median of the recent cross-engine divergences, m, once there are enough. */
  get median(): number | undefined {
    if (this.#recent.length < this.#window) return undefined;
    const sorted = [...this.#recent].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }

  /**
   * Counts a snapshot's report; returns why the page should fall back to server mode, or
   * `undefined`. `authority` is the snapshot's engine, `own` the page's.
   */
  judge(report: DivergenceReport, authority: string, own: string): string | undefined {
    if (authority === own) return undefined;
    this.#recent.push(report.max);
    if (this.#recent.length > this.#window) this.#recent.shift();
    const median = this.median;
    if (median === undefined || median <= this.#max) return undefined;
    return `${authority} and ${own} disagree too much on scene ${report.scene}: the page's prediction was ${(median * 1000).toFixed(1)} mm off the server's (median of the last ${this.#window} snapshots), more than the ${(this.#max * 1000).toFixed(0)} mm allowed`;
  }
}
