import type { LatencyBudget } from '@telekit/gateway/client';
import { describe, expect, it } from 'vitest';
import { layoutWaterfall } from './latency-waterfall.js';

const budget: LatencyBudget = {
  windowMs: 5_000,
  stages: [
    { stage: 'input', p50: 1, p99: 9, count: 100 },
    { stage: 'network', p50: 2, p99: 4, count: 100 },
    { stage: 'gate', p50: 0.1, p99: 0.3, count: 100 },
    { stage: 'forward', p50: 0.9, p99: 2, count: 100 },
    { stage: 'apply', p50: 3, p99: 5, count: 100 },
    { stage: 'report', p50: 0.5, p99: 70, count: 100 },
  ],
  inputToActuation: { p50: 7.5, p99: 16, count: 104 },
  fates: { applied: 100, superseded: 4 },
};

describe('layoutWaterfall', () => {
  it('starts each stage where the medians before it end; the way back starts at the actuation', () => {
    const w = layoutWaterfall(budget);
    expect(w.rows.map((r) => [r.stage, r.start])).toEqual([
      ['input', 0],
      ['network', 1],
      ['gate', 3],
      ['forward', 3.1],
      ['apply', 4],
      ['report', 7],
    ]);
    expect(w.total).toMatchObject({ stage: 'total', start: 0, p50: 7.5, p99: 16, count: 104 });
  });

  it('scales to the budget, or to the longest whisker when something overran it', () => {
    expect(layoutWaterfall({ ...budget, stages: budget.stages.slice(0, 5) }).scaleMs).toBe(50);
    expect(layoutWaterfall(budget).scaleMs).toBe(77); // the report's whisker: 7 + 70
    expect(layoutWaterfall(budget, 20).budgetMs).toBe(20);
  });

  it('is empty before any command', () => {
    const w = layoutWaterfall(undefined);
    expect(w.rows).toEqual([]);
    expect(w.total).toBeUndefined();
  });
});
