import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from './bucket-histogram.js';

const buckets = [0.001, 0.005, 0.01, 0.05, 0.1];

describe('BucketHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new BucketHistogram({
      name: 'x_seconds',
      help: 'x',
      buckets,
      labelNames: ['stage'],
      registers: [ours],
    });
    const plain = new BucketHistogram({ name: 'y_seconds', help: 'y', buckets, registers: [ours] });
    const ref = new Histogram({
      name: 'x_seconds',
      help: 'x',
      buckets,
      labelNames: ['stage'],
      registers: [theirs],
    });
    const refPlain = new Histogram({ name: 'y_seconds', help: 'y', buckets, registers: [theirs] });
    const values = [0, 0.001, 0.0011, 0.004, 0.05, 0.07, 0.2, 3, 0.01];
    for (const [i, v] of values.entries()) {
      const stage = i % 2 ? 'gate' : 'network';
      fast.labels({ stage }).observe(v);
      ref.labels({ stage }).observe(v);
      plain.observe(v);
      refPlain.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toMatch(/x_seconds_bucket\{le="\+Inf",stage="gate"\} 4/);
  });

  it('skips a value that is not a finite number (prom-client throws) and forgets all on reset', async () => {
    const r = new Registry();
    const h = new BucketHistogram({ name: 'z', help: 'z', buckets, registers: [r] });
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(0.002);
    expect(await r.metrics()).toMatch(/z_count 1\n/);
    r.resetMetrics();
    expect(await r.metrics()).not.toMatch(/z_count/);
  });
});
