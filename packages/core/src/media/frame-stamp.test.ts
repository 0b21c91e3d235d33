import { describe, expect, it } from 'vitest';
import { readStamp, stampFrame, stampLatency, stampRegion } from './frame-stamp.js';

const picture = (width: number, height: number, fill = 128) => new Uint8Array(width * height * 4).fill(fill);

describe('frame stamps', () => {
  it.each([
    [160, 120],
    [320, 240],
    [1280, 720],
    [1920, 1080],
  ])('a stamp written into a %ix%i picture reads back', (width, height) => {
    const data = picture(width, height);
    const t = 1_763_000_123_456;
    stampFrame(data, width, height, t);
    const stamp = readStamp(data, width, height);
    expect(stamp).toBe(t % 2 ** 24);
    expect(stampLatency(stamp!, t + 42)).toBe(42);
  });

  it('survives the noise a codec adds', () => {
    const [width, height] = [320, 240];
    const data = picture(width, height);
    stampFrame(data, width, height, 987_654_321);
    let seed = 7;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      data[i] = Math.max(0, Math.min(255, data[i]! + ((seed % 81) - 40)));
    }
    expect(readStamp(data, width, height)).toBe(987_654_321 % 2 ** 24);
  });

  it('reads from just the corner a viewer copies out of the decoded picture', () => {
    const [width, height] = [1280, 720];
    const data = picture(width, height);
    stampFrame(data, width, height, 5_555_555);
    const region = stampRegion(width);
    const corner = new Uint8Array(region.width * region.height * 4);
    for (let y = 0; y < region.height; y++)
      corner.set(data.subarray(y * width * 4, (y * width + region.width) * 4), y * region.width * 4);
    expect(readStamp(corner, region.width, region.height, width)).toBe(5_555_555);
  });

  it('an unstamped picture has no stamp', () => {
    expect(readStamp(picture(320, 240), 320, 240)).toBeUndefined();
  });

  it('latency undoes the wrap of the 24-bit time', () => {
    expect(stampLatency(2 ** 24 - 10, 2 ** 24 * 5 + 15)).toBe(25);
    expect(stampLatency(1_000, 997)).toBe(-3);
  });

  it('pictures too small for the strip are left alone', () => {
    const data = picture(40, 40);
    stampFrame(data, 40, 40, 1);
    expect(data.every((v) => v === 128)).toBe(true);
    expect(readStamp(data, 40, 40)).toBeUndefined();
    expect(stampRegion(320)).toEqual({ width: 26 * 11, height: 11 });
  });
});
