// The Simulator kit's camera case (capability `camera`): frames of the declared size come on
// `frames$` while it is watched, and they are not blank; `pixelStdDev` is the measure of "not blank".

import { take, toArray } from 'rxjs';
import { expect } from 'vitest';
import type { SimulatorKit } from './simulator-kit.js';
import { firstWithin } from './skips.js';

/** Standard deviation of the first channel of every pixel: near 0 for a blank frame. */
export function pixelStdDev(data: Uint8Array, channels: number): number {
  let sum = 0;
  let sq = 0;
  const n = Math.floor(data.length / channels);
  for (let i = 0; i < data.length; i += channels) {
    const v = data[i]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

/** Registers the camera case. */
export function cameraCases({ test, timeoutMs }: SimulatorKit): void {
  test(
    'renders camera frames of the declared size while watched',
    async (sim, _, where) => {
      const frames = firstWithin(
        where,
        '2 camera frames on frames$',
        sim.frames$.pipe(take(2), toArray()),
        timeoutMs,
      );
      for (let i = 0; i < 20; i++) await sim.step(5);
      const [a, b] = await frames;
      expect(a!.width).toBeGreaterThan(0);
      expect(a!.data.byteLength).toBe(a!.width * a!.height * (a!.format === 'rgb' ? 3 : 4));
      expect(b!.seq).toBeGreaterThan(a!.seq);
      // Not blank: the picture has contrast.
      expect(pixelStdDev(b!.data, b!.format === 'rgb' ? 3 : 4)).toBeGreaterThan(5);
    },
    'camera',
  );
}
