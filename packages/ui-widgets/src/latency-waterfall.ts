import type { CommandStage, LatencyBudget } from '@telekit/gateway/client';

/** What each stage of a command's trip is called on screen, and what it covers. */
export const STAGE_LABELS: Readonly<Record<CommandStage, { label: string; about: string }>> = {
  input: {
    label: 'input → send',
    about: "the page: from the key press (or a held key's due repeat) to the command leaving",
  },
  network: { label: 'network', about: 'sent → the gateway received it' },
  gate: { label: 'safety gate', about: 'validation, lease, order, deadline and e-stop at the gateway' },
  forward: { label: 'to actuator', about: 'admitted → the simulator (or robot driver) received it' },
  apply: { label: 'wait for step', about: 'received → the physics step that applied it' },
  report: {
    label: 'report back',
    about: 'applied → its report reached the gateway (the way back: not part of input→actuation)',
  },
};

/** One bar of the waterfall, ms. */
export interface WaterfallRow {
  readonly stage: CommandStage | 'total';
  readonly label: string;
  readonly about: string;
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
  /** Where its bar starts: the sum of the p50s of the stages before it (0 for the total). */
  readonly start: number;
}

/** The waterfall to draw: the stages in order, the total, and the scale. */
export interface Waterfall {
  readonly rows: readonly WaterfallRow[];
  /** Input→actuation over every command that took effect, or undefined before any. */
  readonly total: WaterfallRow | undefined;
  /** The axis runs from 0 to this, ms: the budget, or further when something overran it. */
  readonly scaleMs: number;
  readonly budgetMs: number;
}

/**
 * Lays out a latency budget as a waterfall: each stage's bar starts where the stages before it end
 * (at their medians) and is as long as its median, with a whisker to its p99; the total
 * (input→actuation, measured per command, not summed) is drawn from zero. The axis covers the budget
 * (default 50 ms) or the longest whisker if that is longer.
 *
 * The medians of the stages add up to roughly the total's median; their p99s do not add up (the
 * slowest commands are not slow everywhere), which is why each whisker stands on its own.
 */
export function layoutWaterfall(budget: LatencyBudget | undefined, budgetMs = 50): Waterfall {
  const rows: WaterfallRow[] = [];
  let start = 0;
  for (const s of budget?.stages ?? []) {
    const { label, about } = STAGE_LABELS[s.stage];
    rows.push({ stage: s.stage, label, about, p50: s.p50, p99: s.p99, count: s.count, start });
    // The way back starts from the actuation, not after it in the sum.
    if (s.stage !== 'report') start += s.p50;
  }
  const t = budget?.inputToActuation;
  const total: WaterfallRow | undefined = t
    ? {
        stage: 'total',
        label: 'input → actuation',
        about: 'per command, from the input to the step that applied it (superseded ones to their successor)',
        p50: t.p50,
        p99: t.p99,
        count: t.count,
        start: 0,
      }
    : undefined;
  const reach = Math.max(budgetMs, total?.p99 ?? 0, ...rows.map((r) => r.start + r.p99));
  return { rows, total, scaleMs: reach, budgetMs };
}
