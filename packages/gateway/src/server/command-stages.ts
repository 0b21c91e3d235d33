import type { Header } from '@telekit/core';
import type { Actuation, CommandFate } from '@telekit/core/schemas';
import {
  COMMAND_STAGES,
  type CommandStage,
  type LatencyBudget,
  type Percentiles,
  type StageFigures,
} from '../protocol.js';

/** How long the budget looks back, ms. */
export const BUDGET_WINDOW_MS = 5_000;
/** The most values one window keeps (a client is rate-limited well below this per window). */
const WINDOW_CAP = 2_048;
/** The most admitted commands awaiting their report; the oldest are forgotten first. */
const PENDING_CAP = 512;
/** A stamp of the input older than this before the send is not believed, ms. */
const MAX_INPUT_AGE_MS = 60_000;
/** An input stamped this little after its send is a clock's rounding: it counts as at the send, ms. */
const INPUT_ROUNDING_MS = 5;

/** p50 and p99 of `values` (nearest rank), or null when there are none. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: q(0.5), p99: q(0.99), count: sorted.length };
}

/**
 * Values with the time they were taken, kept for the last `windowMs`. Old values are dropped by
 * moving a start index (compacting now and then), not by shifting the arrays on every add.
 */
export class TimeWindow {
  readonly #at: number[] = [];
  readonly #values: number[] = [];
  #start = 0;
  readonly windowMs: number;

  constructor(windowMs = BUDGET_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  add(at: number, value: number): void {
    this.#at.push(at);
    this.#values.push(value);
    if (this.#at.length - this.#start > WINDOW_CAP) this.#start++;
    this.#compact();
  }

  /** The values taken in the window ending at `now`. */
  values(now: number): number[] {
    const from = now - this.windowMs;
    while (this.#start < this.#at.length && this.#at[this.#start]! < from) this.#start++;
    this.#compact();
    return this.#values.slice(this.#start);
  }

  percentiles(now: number): Percentiles | null {
    return percentiles(this.values(now));
  }

  /** Drops what lies before the start once it is at least half of what is kept. */
  #compact(): void {
    if (this.#start === 0 || this.#start * 2 < this.#at.length) return;
    this.#at.splice(0, this.#start);
    this.#values.splice(0, this.#start);
    this.#start = 0;
  }
}

/** An admitted command, timed so far on the gateway's clock (ms). */
interface Admitted {
  readonly topic: string;
  readonly seq: number;
  /** The operator's input behind it (or its send time when the sender did not say). */
  readonly input: number;
  /** When the gateway admitted it. */
  readonly admittedAt: number;
  readonly stages: Partial<Record<CommandStage, number>>;
  /** Reported superseded: it waits for the newer command that took effect in its place. */
  superseded?: boolean;
}

/** What one actuation report added to the figures: for metrics. */
export interface Accounted {
  /** Each stage of the applied command, ms. */
  readonly stages: readonly (readonly [CommandStage, number])[];
  /** Input→actuation of the commands that took effect with this report, ms. */
  readonly inputToActuation: readonly number[];
}

/** What a client said about a command beyond its header: when the input behind it happened. */
export interface CommandTiming {
  /** `header.stamp`, on the sender's clock. */
  readonly stamp: number;
  /** The input behind it, on the sender's clock (`header.input` on the wire), if the sender said. */
  readonly input?: number;
  /** Gateway clock minus the sender's, ms (0 when unknown). */
  readonly offset: number;
  /** When the gateway received it, and admitted it, gateway clock. */
  readonly received: number;
  readonly admitted: number;
}

/**
 * One client's latency budget: each admitted command's stages from the operator's input to its
 * actuation report, and what became of it, aggregated as p50/p99 over the last few seconds.
 *
 * How it works:
 *
 * 1. At the gate, {@link admitted} times `input` (sender's clock: the input to the send), `network`
 *    (the send, moved to the gateway's clock by the client's offset, to the receive) and `gate`,
 *    and keeps the command by topic and sequence number until its report comes.
 * 2. The report ({@link actuated}) adds `forward` (admitted → the actuator's `receivedAt`), `apply`
 *    (→ `actuatedAt`) and `report` (→ now): the actuator stamps the gateway's clock (it acts on
 *    commands whose headers the gateway normalised), so no offset is involved.
 * 3. An applied command's stages go into the windows, and its input→actuation; a superseded one
 *    waits for the first command of its topic applied after it and takes that one's actuation time
 *    (its operator's input was carried out then). A command with no report of its own when a later
 *    one of its topic is applied was replaced on the way (a latest-wins mailbox): it counts as
 *    superseded. Expired, e-stopped and refused commands only count in the fates.
 */
export class CommandStages {
  readonly #pending = new Map<string, Admitted>();
  // Made on a stage's first value: most sessions (viewers) never command, and cost nothing here.
  readonly #stages = new Map<CommandStage, TimeWindow>();
  #total: TimeWindow | undefined;
  readonly #fates: { at: number; fate: CommandFate }[] = [];
  readonly windowMs: number;

  constructor(windowMs = BUDGET_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  #window(stage: CommandStage): TimeWindow {
    let w = this.#stages.get(stage);
    if (!w) {
      w = new TimeWindow(this.windowMs);
      this.#stages.set(stage, w);
    }
    return w;
  }

  /** Commands admitted and not yet reported on. */
  get pending(): number {
    return this.#pending.size;
  }

  /** A command passed the gate. */
  admitted(topic: string, header: Pick<Header, 'seq'>, t: CommandTiming): void {
    const input =
      t.input !== undefined && t.input <= t.stamp + INPUT_ROUNDING_MS && t.stamp - t.input <= MAX_INPUT_AGE_MS
        ? Math.min(t.input, t.stamp)
        : undefined;
    const sent = t.stamp + t.offset;
    const stages: Partial<Record<CommandStage, number>> = {
      network: Math.max(0, t.received - sent),
      gate: Math.max(0, t.admitted - t.received),
    };
    if (input !== undefined) stages.input = t.stamp - input;
    const key = `${topic}\u0000${header.seq}`;
    this.#pending.delete(key);
    this.#pending.set(key, {
      topic,
      seq: header.seq,
      input: (input ?? t.stamp) + t.offset,
      admittedAt: t.admitted,
      stages,
    });
    if (this.#pending.size > PENDING_CAP) this.#pending.delete(this.#pending.keys().next().value!);
  }

  /** An actuation report about one of its commands reached the gateway at `now`. */
  actuated(a: Pick<Actuation, 'command' | 'actuatedAt' | 'receivedAt' | 'fate'>, now: number): Accounted {
    this.#fates.push({ at: now, fate: a.fate });
    const key = `${a.command.topic}\u0000${a.command.seq}`;
    const c = this.#pending.get(key);
    if (a.fate === 'superseded') {
      if (c) c.superseded = true;
      return { stages: [], inputToActuation: [] };
    }
    this.#pending.delete(key);
    if (a.fate !== 'applied') return { stages: [], inputToActuation: [] };
    const took: number[] = [];
    // Those of its topic it replaced, reported so or lost on the way, took effect with it.
    for (const [k, older] of this.#pending) {
      if (older.topic !== a.command.topic || older.seq >= a.command.seq) continue;
      this.#pending.delete(k);
      if (!older.superseded) this.#fates.push({ at: now, fate: 'superseded' });
      took.push(Math.max(0, a.actuatedAt - older.input));
    }
    const stages: [CommandStage, number][] = [];
    if (c) {
      const s = { ...c.stages };
      if (a.receivedAt !== undefined) {
        s.forward = Math.max(0, a.receivedAt - c.admittedAt);
        s.apply = Math.max(0, a.actuatedAt - a.receivedAt);
      }
      s.report = Math.max(0, now - a.actuatedAt);
      for (const stage of COMMAND_STAGES) {
        const v = s[stage];
        if (v === undefined) continue;
        stages.push([stage, v]);
        this.#window(stage).add(now, v);
      }
      took.push(Math.max(0, a.actuatedAt - c.input));
    }
    if (took.length > 0) {
      this.#total ??= new TimeWindow(this.windowMs);
      for (const ms of took) this.#total.add(now, ms);
    }
    return { stages, inputToActuation: took };
  }

  /** The budget over the window ending at `now`. */
  budget(now: number): LatencyBudget {
    const stages: StageFigures[] = [];
    for (const stage of COMMAND_STAGES) {
      const p = this.#stages.get(stage)?.percentiles(now) ?? null;
      if (p) stages.push({ stage, ...p });
    }
    const from = now - this.windowMs;
    while (this.#fates.length > 0 && (this.#fates[0]!.at < from || this.#fates.length > WINDOW_CAP))
      this.#fates.shift();
    const fates: LatencyBudget['fates'] = {};
    for (const f of this.#fates) fates[f.fate] = (fates[f.fate] ?? 0) + 1;
    return {
      windowMs: this.windowMs,
      stages,
      inputToActuation: this.#total?.percentiles(now) ?? null,
      fates,
    };
  }
}
