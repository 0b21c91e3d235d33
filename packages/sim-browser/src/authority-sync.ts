import type { Header } from '@telekit/core';
import type { SimAction, SimSnapshot } from '@telekit/core/contracts';
import type { BodyState } from '@telekit/core/schemas';
import { Subject } from 'rxjs';
import type { Correction } from './topics.js';
import type { WasmSimulator } from './wasm-simulator.js';

/** Options of {@link AuthoritySync}. */
export interface AuthoritySyncOptions {
  /** Divergence below this is left alone, metres. Default 0.002. */
  tolerance?: number;
  /** Divergence at or above this is snapped (no blending), metres. Default 0.25. */
  snapThreshold?: number;
  /** How long a smooth correction blends what is drawn, ms. Default 250. */
  smoothMs?: number;
  /** Steps of local history kept for comparing with late snapshots. Default 2 000 (10 s at 200 Hz). */
  historySteps?: number;
  /**
   * A snapshot at most this many steps ahead of the browser (it fell a little behind) is met by
   * simulating up to it, then compared as usual; further ahead, it is adopted. Default 50 (¼ s at 200 Hz).
   */
  catchUpSteps?: number;
  /** Monotonic time for blending, ms. Default `performance.now`. */
  now?: () => number;
}

/** The outcome of one snapshot. */
export interface DivergenceReport {
  readonly scene: string;
  /** The authority's simulated time compared at, s. */
  readonly time: number;
  readonly max: number;
  readonly mean: number;
  readonly worst: string;
  readonly bodies: readonly { name: string; error: number }[];
  readonly correction: Correction;
  /** Steps re-simulated with the local inputs after restoring the snapshot. */
  readonly replayed: number;
}

interface Logged {
  step: number;
  action: SimAction;
  /** The command's id (topic and sequence number as sent), to re-place it when the authority says where it acted. */
  id?: string;
}

/**
 * Keeps a browser simulator honest: every input goes through it (so it can be replayed), every step
 * is remembered (so a snapshot that arrives late is compared with the local state at the snapshot's
 * own time), and each snapshot from the authority is measured and corrected:
 *
 * - below `tolerance`: nothing to do;
 * - below `snapThreshold`: the physics restores the snapshot and re-simulates the local inputs
 *   since then (rollback), and what is drawn blends from the old poses to the new over `smoothMs`;
 * - at or above it: the same, without blending (a reset, a collision the browser missed).
 *
 * A snapshot a little ahead of the local simulation (the browser fell behind) is met by simulating
 * up to it first; one further ahead is adopted as it is.
 *
 * An input the authority will apply at an earlier simulated time than the browser has reached (the
 * browser runs ahead of the authority, so its operator's commands reach the authority "in the
 * browser's past") is put in its place with {@link actAt}: the browser rolls back to the last
 * snapshot and replays with it there, so that what it predicts is what the authority will do.
 *
 * Every operation runs on its own: a step, a snapshot and a rollback never interleave.
 */
export class AuthoritySync {
  readonly #sim: WasmSimulator;
  readonly #tolerance: number;
  readonly #snap: number;
  readonly #smoothMs: number;
  readonly #historySteps: number;
  readonly #catchUpSteps: number;
  readonly #now: () => number;
  readonly #history = new Map<number, Float64Array>();
  #inputs: Logged[] = [];
  #blend: { from: Float64Array; at: number } | undefined;
  /** The last snapshot restored or measured: the full state a rollback starts from. */
  #base: { snapshot: SimSnapshot; step: number } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #reports = new Subject<DivergenceReport>();

  /** A report per snapshot. */
  readonly divergence$ = this.#reports.asObservable();

  constructor(sim: WasmSimulator, options: AuthoritySyncOptions = {}) {
    this.#sim = sim;
    this.#tolerance = options.tolerance ?? 0.002;
    this.#snap = options.snapThreshold ?? 0.25;
    this.#smoothMs = options.smoothMs ?? 250;
    this.#historySteps = options.historySteps ?? 2_000;
    this.#catchUpSteps = options.catchUpSteps ?? 50;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The step number of simulated time `t` in the loaded scene. */
  #stepAt(t: number): number {
    return Math.round(t / (this.#sim.scene?.timestep ?? 1));
  }

  /** Runs `op` after every operation before it (steps, snapshots, rollbacks never interleave). */
  #exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Applies an input now and logs it for replay. */
  act(action: SimAction, command?: Header): void {
    this.#sim.act(action, command);
    this.#inputs.push({ step: this.#stepAt(this.#sim.time), action });
  }

  /**
   * Applies an input that the authority will apply at simulated time `at` (s). Not in this
   * simulation's past: at once, as {@link act}. In its past (after the last snapshot): the
   * simulation restores that snapshot and replays the inputs since, this one at its own step, up to
   * where it was — the drawn poses blend over the jump. Resolves with the steps replayed.
   */
  actAt(action: SimAction, at: number, command?: Header, id?: string): Promise<number> {
    return this.#exclusive(async () => {
      const step = this.#stepAt(at);
      const local = this.#stepAt(this.#sim.time);
      const base = this.#base;
      if (step >= local || !base || step <= base.step) {
        this.#sim.act(action, command);
        this.#inputs.push({ step: local, action, ...(id === undefined ? {} : { id }) });
        return 0;
      }
      // Validate (and let a command past its deadline say so) against the present, as act() would.
      this.#sim.act(action, command);
      let i = this.#inputs.length;
      while (i > 0 && this.#inputs[i - 1]!.step > step) i--;
      // A held key's repeat changes nothing: the same action was in force there already.
      const inForce = this.#inputs.slice(0, i).findLast((x) => x.action.kind === action.kind);
      const same = inForce !== undefined && JSON.stringify(inForce.action) === JSON.stringify(action);
      this.#inputs.splice(i, 0, { step, action, ...(id === undefined ? {} : { id }) });
      if (same && this.#inputs.slice(i + 1).every((x) => x.action.kind !== action.kind)) return 0;
      return this.#rollback(base, local);
    });
  }

  /**
   * The authority says where the input `id` acted: from simulated time `at` (s). When that is not
   * where it was put (the command was late, or early, on its way), it moves there, and the
   * simulation rolls back and replays if that changes anything. An input that only repeated the
   * action in force, or one no longer remembered, is left alone. Resolves with the steps replayed.
   */
  placeAt(id: string, at: number): Promise<number> {
    return this.#exclusive(async () => {
      const i = this.#inputs.findIndex((x) => x.id === id);
      const input = this.#inputs[i];
      const step = this.#stepAt(at);
      const base = this.#base;
      const local = this.#stepAt(this.#sim.time);
      if (!input || input.step === step || !base || Math.min(input.step, step) <= base.step) return 0;
      const before = this.#inputs.slice(0, i).findLast((x) => x.action.kind === input.action.kind);
      if (before && JSON.stringify(before.action) === JSON.stringify(input.action)) return 0;
      this.#inputs.splice(i, 1);
      let j = this.#inputs.length;
      while (j > 0 && this.#inputs[j - 1]!.step > step) j--;
      this.#inputs.splice(j, 0, { ...input, step });
      if (Math.min(input.step, step) >= local) return 0;
      return this.#rollback(base, local);
    });
  }

  /** Replays from `base` to `to` with the inputs as they now stand; blends what is drawn over a visible jump. */
  async #rollback(base: { snapshot: SimSnapshot; step: number }, to: number): Promise<number> {
    const drawn = flatten(this.bodies());
    const replayed = await this.#replay(base.snapshot, base.step, to);
    // Blend what is drawn over a visible jump only (a blend restarted at every command would lag).
    const jump = Math.max(0, ...distances(drawn, flatten(this.#sim.current().bodies)));
    if (jump >= this.#tolerance) this.#blend = { from: drawn, at: this.#now() };
    return replayed;
  }

  /** Starts from `snapshot`: restores it, forgets the history before it, and rolls back to it from now on. */
  adopt(snapshot: SimSnapshot): Promise<void> {
    return this.#exclusive(async () => {
      await this.#sim.restore(snapshot);
      this.#history.clear();
      this.#remember(this.#sim.current());
      this.#blend = undefined;
      this.#base = { snapshot, step: this.#stepAt(snapshot.time) };
    });
  }

  /** Steps the simulator one step at a time, remembering where every body was. */
  step(n = 1): Promise<void> {
    return this.#exclusive(async () => {
      for (let i = 0; i < n; i++) this.#remember(await this.#sim.step());
    });
  }

  #remember(state: { time: number; bodies: readonly BodyState[] }): void {
    const step = this.#stepAt(state.time);
    this.#history.set(step, flatten(state.bodies));
    const oldest = step - this.#historySteps;
    for (const k of this.#history.keys()) {
      if (k >= oldest) break;
      this.#history.delete(k);
    }
    // Inputs older than the history can never be replayed; keep the last one (it still holds).
    const keepFrom = this.#inputs.findIndex((input) => input.step >= oldest);
    const cut = keepFrom === -1 ? this.#inputs.length - 1 : keepFrom - 1;
    if (cut > 0) this.#inputs = this.#inputs.slice(cut);
  }

  /**
   * Measures a snapshot against the local state at the same simulated time and corrects toward it.
   * Throws (with the mismatch named) for a snapshot of another scene or engine.
   */
  apply(snapshot: SimSnapshot): Promise<DivergenceReport> {
    return this.#exclusive(() => this.#apply(snapshot));
  }

  async #apply(snapshot: SimSnapshot): Promise<DivergenceReport> {
    const sim = this.#sim;
    const theirs = sim.bodiesOf(snapshot); // validates scene, engine and size
    const names = theirs.map((b) => b.name);
    const authority = flatten(theirs);
    const snapStep = this.#stepAt(snapshot.time);
    const drawnBefore = this.bodies();
    // A little behind the snapshot (a busy page): simulate up to it first, so the two are compared
    // at the same instant (comparing then-and-now would count the lag as divergence).
    let behind = snapStep - this.#stepAt(sim.time);
    if (behind > 0 && behind <= this.#catchUpSteps)
      for (; behind > 0; behind--) this.#remember(await sim.step());
    const current = sim.current();
    const localStep = this.#stepAt(current.time);
    const ours = this.#history.get(snapStep);

    let errors: number[];
    let correction: Correction;
    let replayed = 0;
    if (!ours || snapStep > localStep) {
      // Behind the authority, or no record of that moment: adopt it.
      errors = distances(flatten(current.bodies), authority);
      correction = 'snap';
      await sim.restore(snapshot);
      this.#history.clear();
      this.#remember(sim.current());
      this.#blend = undefined;
    } else {
      errors = distances(ours, authority);
      const max = Math.max(0, ...errors);
      correction = max < this.#tolerance ? 'none' : max < this.#snap ? 'smooth' : 'snap';
      if (correction !== 'none') {
        replayed = await this.#replay(snapshot, snapStep, localStep);
        this.#blend = correction === 'smooth' ? { from: flatten(drawnBefore), at: this.#now() } : undefined;
      }
    }
    // A rollback starts from here (the authority's state), whatever the correction was.
    if (snapStep <= this.#stepAt(sim.time)) this.#base = { snapshot, step: snapStep };
    const max = Math.max(0, ...errors);
    const worst = names[errors.indexOf(max)] ?? '';
    const report: DivergenceReport = {
      scene: snapshot.scene,
      time: snapshot.time,
      max,
      mean: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : 0,
      worst,
      bodies: names.map((name, i) => ({ name, error: errors[i]! })),
      correction,
      replayed,
    };
    this.#reports.next(report);
    return report;
  }

  /** Restores the snapshot and re-simulates the logged inputs up to where the browser was. */
  async #replay(snapshot: SimSnapshot, from: number, to: number): Promise<number> {
    const sim = this.#sim;
    // The inputs in force at the snapshot, then every later one at its own step.
    const before = this.#inputs.filter((i) => i.step <= from);
    const later = this.#inputs.filter((i) => i.step > from);
    await sim.restore(snapshot);
    for (const k of [...this.#history.keys()]) if (k > from) this.#history.delete(k);
    for (const input of before) sim.act(input.action);
    let next = 0;
    for (let step = from; step < to; step++) {
      while (next < later.length && later[next]!.step <= step) sim.act(later[next++]!.action);
      this.#remember(await sim.step());
    }
    while (next < later.length) sim.act(later[next++]!.action);
    return to - from;
  }

  /** The body poses to draw now: the simulation's, blended from before a smooth correction. */
  bodies(): BodyState[] {
    const bodies = this.#sim.current().bodies;
    const blend = this.#blend;
    if (!blend) return [...bodies];
    const k = Math.min(1, (this.#now() - blend.at) / this.#smoothMs);
    if (k >= 1) {
      this.#blend = undefined;
      return [...bodies];
    }
    return bodies.map((b, i) => {
      const from = { x: blend.from[3 * i]!, y: blend.from[3 * i + 1]!, z: blend.from[3 * i + 2]! };
      return {
        ...b,
        position: {
          x: from.x + (b.position.x - from.x) * k,
          y: from.y + (b.position.y - from.y) * k,
          z: from.z + (b.position.z - from.z) * k,
        },
      };
    });
  }

  /** Forgets history and inputs (after loading another scene or a reset). */
  clear(): void {
    this.#history.clear();
    this.#inputs = [];
    this.#blend = undefined;
    this.#base = undefined;
  }

  /** Completes `divergence$`. */
  close(): void {
    this.#reports.complete();
  }
}

function flatten(bodies: readonly BodyState[]): Float64Array {
  const out = new Float64Array(bodies.length * 3);
  for (const [i, b] of bodies.entries()) {
    out[3 * i] = b.position.x;
    out[3 * i + 1] = b.position.y;
    out[3 * i + 2] = b.position.z;
  }
  return out;
}

function distances(a: Float64Array, b: Float64Array): number[] {
  const n = Math.min(a.length, b.length) / 3;
  return Array.from({ length: n }, (_, i) =>
    Math.hypot(a[3 * i]! - b[3 * i]!, a[3 * i + 1]! - b[3 * i + 1]!, a[3 * i + 2]! - b[3 * i + 2]!),
  );
}
