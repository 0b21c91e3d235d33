import { type Header, TimeWindow } from '@telekit/core';
import type { Actuation, CommandFate } from '@telekit/core/schemas';
import { COMMAND_STAGES, type CommandStage, type LatencyBudget, type StageFigures } from '../protocol.js';

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

const FATES = [
  'applied',
  'superseded',
  'expired',
  'estop',
  'refused',
] as const satisfies readonly CommandFate[];
const FATE_INDEX = new Map<CommandFate, number>(FATES.map((fate, i) => [fate, i]));
const NOTHING: Accounted = { stages: [], inputToActuation: [] };

/** An admitted command, timed so far on the gateway's clock (ms). */
interface Admitted {
  readonly seq: number;
  /** The operator's input behind it (or its send time when the sender did not say). */
  readonly input: number;
  /** When the gateway admitted it. */
  readonly admittedAt: number;
  /** Its `input`, `network` and `gate` stages, ms (`input` NaN: the sender did not stamp it). */
  readonly inputStage: number;
  readonly network: number;
  readonly gate: number;
  /** Reported superseded: it waits for the newer command that took effect in its place. */
  superseded: boolean;
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
  /** Each topic's admitted commands awaiting their report, in the order they were admitted. */
  readonly #pending = new Map<string, Admitted[]>();
  #pendingCount = 0;
  // Made on a stage's first value: most sessions (viewers) never command, and cost nothing here.
  readonly #stages: (TimeWindow | undefined)[] = [];
  #total: TimeWindow | undefined;
  /** Each fate's reports, as a window of fate indexes. */
  #fates: TimeWindow | undefined;
  readonly windowMs: number;

  constructor(windowMs = BUDGET_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  /** Commands admitted and not yet reported on. */
  get pending(): number {
    return this.#pendingCount;
  }

  /** A command passed the gate. */
  admitted(topic: string, header: Pick<Header, 'seq'>, t: CommandTiming): void {
    const input =
      t.input !== undefined && t.input <= t.stamp + INPUT_ROUNDING_MS && t.stamp - t.input <= MAX_INPUT_AGE_MS
        ? Math.min(t.input, t.stamp)
        : undefined;
    let queue = this.#pending.get(topic);
    if (!queue) {
      queue = [];
      this.#pending.set(topic, queue);
    }
    const again = queue.findIndex((c) => c.seq === header.seq);
    if (again >= 0) {
      queue.splice(again, 1);
      this.#pendingCount--;
    }
    queue.push({
      seq: header.seq,
      input: (input ?? t.stamp) + t.offset,
      admittedAt: t.admitted,
      inputStage: input === undefined ? Number.NaN : t.stamp - input,
      network: Math.max(0, t.received - (t.stamp + t.offset)),
      gate: Math.max(0, t.admitted - t.received),
      superseded: false,
    });
    if (++this.#pendingCount > PENDING_CAP) this.#forgetOldest();
  }

  /** An actuation report about one of its commands reached the gateway at `now`. */
  actuated(a: Pick<Actuation, 'command' | 'actuatedAt' | 'receivedAt' | 'fate'>, now: number): Accounted {
    this.#fate(now, a.fate);
    const queue = this.#pending.get(a.command.topic);
    const at = queue ? queue.findIndex((c) => c.seq === a.command.seq) : -1;
    const c = at >= 0 ? queue![at] : undefined;
    if (a.fate === 'superseded') {
      if (c) c.superseded = true;
      return NOTHING;
    }
    if (c) {
      queue!.splice(at, 1);
      this.#pendingCount--;
    }
    if (a.fate !== 'applied') return NOTHING;
    const took: number[] = [];
    // Those of its topic it replaced, reported so or lost on the way, took effect with it.
    if (queue) {
      let kept = 0;
      for (const older of queue) {
        if (older.seq >= a.command.seq) {
          queue[kept++] = older;
          continue;
        }
        if (!older.superseded) this.#fate(now, 'superseded');
        took.push(Math.max(0, a.actuatedAt - older.input));
      }
      this.#pendingCount -= queue.length - kept;
      queue.length = kept;
    }
    const stages: [CommandStage, number][] = [];
    if (c) {
      const values = [
        c.inputStage,
        c.network,
        c.gate,
        a.receivedAt === undefined ? Number.NaN : Math.max(0, a.receivedAt - c.admittedAt),
        a.receivedAt === undefined ? Number.NaN : Math.max(0, a.actuatedAt - a.receivedAt),
        Math.max(0, now - a.actuatedAt),
      ];
      for (let i = 0; i < COMMAND_STAGES.length; i++) {
        const v = values[i]!;
        if (Number.isNaN(v)) continue;
        stages.push([COMMAND_STAGES[i]!, v]);
        this.#stages[i] ??= new TimeWindow(this.windowMs, WINDOW_CAP);
        this.#stages[i]!.add(now, v);
      }
      took.push(Math.max(0, a.actuatedAt - c.input));
    }
    if (took.length > 0) {
      this.#total ??= new TimeWindow(this.windowMs, WINDOW_CAP);
      for (const ms of took) this.#total.add(now, ms);
    }
    return { stages, inputToActuation: took };
  }

  /** The budget over the window ending at `now`. */
  budget(now: number): LatencyBudget {
    const stages: StageFigures[] = [];
    COMMAND_STAGES.forEach((stage, i) => {
      const p = this.#stages[i]?.percentiles(now);
      if (p) stages.push({ stage, ...p });
    });
    const fates: LatencyBudget['fates'] = {};
    for (const i of this.#fates?.values(now) ?? []) fates[FATES[i]!] = (fates[FATES[i]!] ?? 0) + 1;
    return {
      windowMs: this.windowMs,
      stages,
      inputToActuation: this.#total?.percentiles(now) ?? null,
      fates,
    };
  }

  #fate(now: number, fate: CommandFate): void {
    this.#fates ??= new TimeWindow(this.windowMs, WINDOW_CAP);
    this.#fates.add(now, FATE_INDEX.get(fate) ?? FATE_INDEX.get('refused')!);
  }

  /** Forgets the command admitted longest ago (of whichever topic): a silent actuator costs bounded memory. */
  #forgetOldest(): void {
    let oldest: Admitted[] | undefined;
    for (const queue of this.#pending.values())
      if (queue.length > 0 && (!oldest || queue[0]!.admittedAt < oldest[0]!.admittedAt)) oldest = queue;
    if (!oldest) return;
    oldest.shift();
    this.#pendingCount--;
  }
}
