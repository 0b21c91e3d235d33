import type { BodyState, Header, SimAction, SimSnapshot } from '@telekit/core';
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
 * A snapshot ahead of the local simulation (the browser fell behind) is adopted as it is.
 */
export class AuthoritySync {
  readonly #sim: WasmSimulator;
  readonly #tolerance: number;
  readonly #snap: number;
  readonly #smoothMs: number;
  readonly #historySteps: number;
  readonly #now: () => number;
  readonly #history = new Map<number, Float64Array>();
  #inputs: Logged[] = [];
  #blend: { from: Float64Array; at: number } | undefined;
  readonly #reports = new Subject<DivergenceReport>();

  /** A report per snapshot. */
  readonly divergence$ = this.#reports.asObservable();

  constructor(sim: WasmSimulator, options: AuthoritySyncOptions = {}) {
    this.#sim = sim;
    this.#tolerance = options.tolerance ?? 0.002;
    this.#snap = options.snapThreshold ?? 0.25;
    this.#smoothMs = options.smoothMs ?? 250;
    this.#historySteps = options.historySteps ?? 2_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The step number of simulated time `t` in the loaded scene. */
  #stepAt(t: number): number {
    return Math.round(t / (this.#sim.scene?.timestep ?? 1));
  }

  /** Applies an input now and logs it for replay. */
  act(action: SimAction, command?: Header): void {
    this.#sim.act(action, command);
    this.#inputs.push({ step: this.#stepAt(this.#sim.time), action });
  }

  /** Steps the simulator one step at a time, remembering where every body was. */
  async step(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) this.#remember(await this.#sim.step());
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
  async apply(snapshot: SimSnapshot): Promise<DivergenceReport> {
    const sim = this.#sim;
    const theirs = sim.bodiesOf(snapshot); // validates scene, engine and size
    const names = theirs.map((b) => b.name);
    const authority = flatten(theirs);
    const snapStep = this.#stepAt(snapshot.time);
    const current = sim.current();
    const localStep = this.#stepAt(current.time);
    const ours = this.#history.get(snapStep);
    const drawnBefore = this.bodies();

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
