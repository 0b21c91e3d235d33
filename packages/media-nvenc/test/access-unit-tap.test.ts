import { createApp, inProcess, type Plugin, silentLogger } from '@telekit/core';
import { probeH264 } from '@telekit/testkit/media';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AccessUnitTap, AccessUnitTapToken, nvencMedia } from '../src/index.js';
import { descendants } from './processes.js';

// The access-unit tap with the real parts: ffmpeg encodes, mediasoup forwards, the tap's
// DirectTransport consumer hands the packets to this process, and real ffmpeg decodes what it rebuilt.
let app: ReturnType<typeof createApp>;
let tap: AccessUnitTap;

const grab: Plugin = {
  name: 'tap-user',
  requires: [AccessUnitTapToken],
  setup(ctx) {
    tap = ctx.resolve(AccessUnitTapToken);
  },
};

beforeAll(async () => {
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      nvencMedia({
        lingerMs: 200,
        streams: [
          {
            id: 'cam',
            hls: false,
            profile: { width: 320, height: 240, fps: 30, bitrateKbps: 600, gopSeconds: 1 },
          },
        ],
      }),
      grab,
    ],
  });
  await app.start();
}, 60_000);
afterAll(() => app?.stop());

const encoders = () => descendants(process.pid).filter((p) => p.comm === 'ffmpeg');

describe('access-unit tap', () => {
  it('lists the H.264 streams with their size', () => {
    expect(tap.streams()).toEqual([{ id: 'cam', width: 320, height: 240, fps: 30 }]);
  });

  it('starts the idle encoder, hands on access units from a keyframe on that decode with ffmpeg, and stops it after', {
    timeout: 60_000,
  }, async () => {
    expect(encoders()).toEqual([]);
    const units = await firstValueFrom(tap.accessUnits$('cam', 'test').pipe(take(45), toArray()));
    expect(units[0]!.keyframe).toBe(true);
    // Annex B, with the SPS (type 7) first in every keyframe.
    for (const au of units.filter((u) => u.keyframe))
      expect([...au.data.subarray(0, 5)]).toEqual([0, 0, 0, 1, 0x67]);
    for (let i = 1; i < units.length; i++) expect(units[i]!.rtpTime).toBeGreaterThan(units[i - 1]!.rtpTime);
    const all = Buffer.concat(units.map((u) => u.data));
    expect(await probeH264(all)).toEqual({ width: 320, height: 240, frames: 45 });
    // One encoder for the stream; it stops once nobody holds it.
    await vi.waitFor(() => expect(encoders()).toEqual([]), { timeout: 15_000, interval: 50 });
  });

  it('two subscribers share one encoder; a late one starts at a keyframe', { timeout: 60_000 }, async () => {
    const first: number[] = [];
    const a = tap.accessUnits$('cam', 'a').subscribe((au) => first.push(au.rtpTime));
    await vi.waitFor(() => expect(first.length).toBeGreaterThan(40), { timeout: 30_000, interval: 50 });
    const late = await firstValueFrom(tap.accessUnits$('cam', 'b').pipe(take(1)));
    expect(late.keyframe).toBe(true);
    expect(encoders()).toHaveLength(1);
    a.unsubscribe();
  });

  it('refuses an unknown stream by name', async () => {
    await expect(firstValueFrom(tap.accessUnits$('nope', 'test'))).rejects.toThrow(/unknown stream/);
  });
});
