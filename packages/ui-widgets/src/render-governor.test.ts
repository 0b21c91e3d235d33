import { describe, expect, it } from 'vitest';
import { RENDER_LEVELS, RenderGovernor, type RenderState } from './render-governor.js';

/** A governor on a fake clock, and a page that offers a frame every `every` ms (its rAF), each costing `cost` ms. */
function harness(start = 0) {
  let t = 0;
  const changes: RenderState[] = [];
  const g = new RenderGovernor({ now: () => t, start, changed: (s) => changes.push(s) });
  g.continuous = true;
  return {
    g,
    changes,
    run(ms: number, every = 1000 / 60, cost = 1, lag?: () => number) {
      const end = t + ms;
      while (t + every <= end) {
        t += every;
        const l = lag?.();
        if (l !== undefined) g.inputLag(t, l);
        if (g.due(t)) g.drawn(t, cost);
      }
      t = end;
    },
  };
}

describe('RenderGovernor', () => {
  it('draws at the level’s rate: 60 fps at the top, every other rAF at 30', () => {
    const h = harness();
    h.run(1_000);
    expect(h.g.state.fps).toBeGreaterThanOrEqual(58);
    const low = harness(2);
    low.run(1_000);
    expect(Math.abs(low.g.state.fps - 30)).toBeLessThanOrEqual(1);
  });

  it('steps down when it cannot keep its frame rate, and says why', () => {
    const h = harness();
    h.run(1_500, 1000 / 40); // the GPU manages 40 of 60
    expect(h.g.state.level).toBe(1);
    expect(h.g.state.note).toMatch(/of 60 fps/);
    h.run(1_500, 1000 / 40);
    expect(h.g.state.level).toBe(2); // 30 fps at a lower resolution: 40 is plenty
    expect(h.g.state.settings).toMatchObject({ fps: 30, scale: 0.75, shadows: false });
    h.run(3_000, 1000 / 40);
    expect(h.g.state.level).toBe(2);
  });

  it('a view fed slowly (telemetry) is not judged on its frame rate', () => {
    const h = harness();
    h.g.continuous = false;
    h.run(3_000, 200); // 5 pictures a second
    expect(h.g.state.level).toBe(0);
  });

  it('yields to the operator: input lag steps it down, below the last level it pauses, then tries again', () => {
    const h = harness(RENDER_LEVELS.length - 2);
    h.run(1_100, 1000 / 60, 1, () => 40);
    expect(h.g.state.level).toBe(RENDER_LEVELS.length - 1);
    h.run(1_100, 1000 / 60, 1, () => 40);
    expect(h.g.state.paused).toBe(true);
    expect(h.g.state.note).toMatch(/paused: the page's input ran 40 ms late/);
    h.run(5_000);
    expect(h.g.state.paused).toBe(true);
    expect(h.g.state.fps).toBe(0);
    h.run(6_000);
    expect(h.g.state.paused).toBe(false);
    expect(h.g.state.level).toBe(RENDER_LEVELS.length - 1);
  });

  it('steps down when drawing takes too much of the main thread', () => {
    const h = harness();
    h.run(1_100, 1000 / 60, 8); // 8 ms × 60 = 480 ms a second
    expect(h.g.state.level).toBe(1);
    expect(h.g.state.note).toMatch(/drawing took/);
  });

  it('climbs back a level after five good seconds', () => {
    const h = harness(3);
    h.run(4_000);
    expect(h.g.state.level).toBe(3);
    h.run(2_000);
    expect(h.g.state.level).toBe(2);
    expect(h.changes.length).toBeGreaterThan(0);
  });

  it('resume() leaves a pause at once, at the lowest level', () => {
    const h = harness(RENDER_LEVELS.length - 1);
    h.run(1_100, 1000 / 60, 1, () => 100);
    expect(h.g.state.paused).toBe(true);
    h.g.resume();
    expect(h.g.state).toMatchObject({ paused: false, level: RENDER_LEVELS.length - 1, note: '' });
  });
});
