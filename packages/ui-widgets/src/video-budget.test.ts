import { describe, expect, it } from 'vitest';
import { LatencyBudget } from './video-budget.js';

describe('LatencyBudget', () => {
  const make = () => {
    let clock = 0;
    const budget = new LatencyBudget({ windowMs: 5_000, now: () => clock, serverTime: (ms) => ms });
    return { budget, at: (ms: number) => (clock = ms) };
  };

  it("times this page's stages at once, and forgets them once out of the window", () => {
    const { budget, at } = make();
    budget.presented({
      now: 100,
      glassToGlassMs: 60,
      receiveTime: 70,
      processingDuration: 0.005,
      presentationTime: 90,
      expectedDisplayTime: 100,
    });
    at(100);
    expect(budget.budget()).toEqual({
      windowMs: 5_000,
      stages: [
        { stage: 'buffer', p50: 15, p99: 15, count: 1 },
        { stage: 'decode', p50: 5, p99: 5, count: 1 },
        { stage: 'present', p50: 10, p99: 10, count: 1 },
      ],
      glassToGlass: { p50: 60, p99: 60, count: 1 },
    });
    at(5_101);
    expect(budget.budget()).toEqual({ windowMs: 5_000, stages: [], glassToGlass: null });
  });

  it('joins no server times to a frame it cleared (its session ended)', () => {
    const { budget, at } = make();
    budget.presented({ now: 100, rtpTimestamp: 7, receiveTime: 95 });
    budget.clear();
    at(200);
    budget.serverFrames([{ rtpTimestamp: 7, capturedAt: 10, sentAt: 20, sfuInAt: 30, sfuOutAt: 40 }]);
    expect(budget.budget().stages).toEqual([]);
  });

  it('drops a frame still waiting for its server times once it is out of the window', () => {
    const { budget, at } = make();
    budget.presented({ now: 100, rtpTimestamp: 7, receiveTime: 95 });
    at(5_200);
    budget.serverFrames([]);
    budget.serverFrames([{ rtpTimestamp: 7, capturedAt: 10, sentAt: 20, sfuInAt: 30, sfuOutAt: 40 }]);
    expect(budget.budget().stages).toEqual([]);
  });
});
