import { describe, expect, it } from 'vitest';
import { WriteQueue } from './write-queue.js';

/** A queue whose writes wait until `release()`: the file has fallen behind. */
function stalled() {
  const written: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const queue = new WriteQueue<string>({
    capacity: 4,
    write: async (item) => {
      await gate;
      written.push(item);
    },
    onError: () => undefined,
  });
  return { queue, written, release };
}

describe('WriteQueue', () => {
  it('writes in order, in the background', async () => {
    const { queue, written, release } = stalled();
    for (const x of ['a', 'b', 'c']) expect(queue.push('telemetry', x)).toBe(true);
    expect(written).toEqual([]);
    release();
    await queue.drained();
    expect(written).toEqual(['a', 'b', 'c']);
    expect(queue.stats()).toMatchObject({ written: 3, dropped: 0, pending: 0 });
  });

  it('when full, drops telemetry and counts it; control entries have a reserve of as many again', async () => {
    const { queue, written, release } = stalled();
    const pushed = [...Array(10).keys()].map((i) => queue.push('telemetry', `t${i}`));
    // One entry is taken by the stalled write, so capacity + 1 got in.
    expect(pushed.filter(Boolean).length).toBeLessThanOrEqual(5);
    const control = [...Array(10).keys()].map((i) => queue.push('control', `c${i}`));
    expect(control.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    const s = queue.stats();
    expect(s.dropped).toBe(pushed.filter((p) => !p).length);
    expect(s.droppedControl).toBe(control.filter((p) => !p).length);
    expect(s.highWater).toBeLessThanOrEqual(8);
    release();
    await queue.drained();
    expect(written.filter((w) => w.startsWith('c'))).toEqual(
      control.flatMap((ok, i) => (ok ? [`c${i}`] : [])),
    );
  });

  it('a write that throws is reported and the queue goes on', async () => {
    const errors: unknown[] = [];
    const queue = new WriteQueue<number>({
      capacity: 8,
      write: async (n) => {
        if (n === 1) throw new Error('disk full');
      },
      onError: (e) => errors.push(e),
    });
    for (const n of [0, 1, 2]) queue.push('telemetry', n);
    await queue.drained();
    expect(errors).toHaveLength(1);
    expect(queue.stats().written).toBe(2);
  });
});
