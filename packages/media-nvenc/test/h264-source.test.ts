import { createApp, inProcess, type Plugin, silentLogger } from '@telekit/core';
import { probeH264 } from '@telekit/testkit/media';
import { afterAll, expect, it, vi } from 'vitest';
import { type AccessUnitTap, AccessUnitTapToken, type H264Source, nvencMedia } from '../src/index.js';

const apps: ReturnType<typeof createApp>[] = [];
afterAll(async () => {
  for (const app of apps) await app.stop();
});

function tapOf(): { plugin: Plugin; tap: () => AccessUnitTap } {
  let tap: AccessUnitTap | undefined;
  return {
    plugin: {
      name: 'tap-user',
      requires: [AccessUnitTapToken],
      setup(ctx) {
        tap = ctx.resolve(AccessUnitTapToken);
      },
    },
    tap: () => tap!,
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// The `{ h264 }` source with the real parts: pictures encoded once (ffmpeg's test pattern through a
// live stream, taken off its SFU by the tap), pushed from Node at 30 fps into a second app's stream,
// whose ffmpeg copies them (IVF in, `-c:v copy`, RTP out) into mediasoup; a consumer of that SFU (the
// tap) rebuilds them, and ffprobe decodes them. Copied, not encoded: the same bytes come out.
it('serves H.264 pushed from Node without encoding it again: the same pictures come out of the SFU', {
  timeout: 120_000,
}, async () => {
  const live = tapOf();
  const source = createApp({
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
      live.plugin,
    ],
  });
  apps.push(source);
  await source.start();
  const encoded: Uint8Array[] = [];
  const sub = live
    .tap()
    .accessUnits$('cam', 'test')
    .subscribe((au) => encoded.push(au.data));
  await vi.waitFor(() => expect(encoded.length).toBeGreaterThanOrEqual(75), {
    timeout: 60_000,
    interval: 100,
  });
  sub.unsubscribe();
  await source.stop();

  // Pushed at 30 fps from the third picture on (not a keyframe: dropped until the next one).
  let pushed = 0;
  const h264: H264Source = {
    width: 320,
    height: 240,
    fps: 30,
    start(push) {
      let i = 2;
      const timer = setInterval(() => {
        push(encoded[i % encoded.length]!);
        i++;
        pushed++;
      }, 33);
      return () => clearInterval(timer);
    },
  };
  const replayed = tapOf();
  const app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      nvencMedia({ lingerMs: 200, streams: [{ id: 'replayed', source: { h264 } }] }),
      replayed.plugin,
    ],
  });
  apps.push(app);
  await app.start();
  const served: Uint8Array[] = [];
  const sub2 = replayed
    .tap()
    .accessUnits$('replayed', 'test')
    .subscribe((au) => served.push(au.data));
  try {
    await vi.waitFor(() => expect(served.length).toBeGreaterThanOrEqual(30), {
      timeout: 60_000,
      interval: 100,
    });
  } finally {
    sub2.unsubscribe();
  }
  expect(pushed).toBeGreaterThan(0);
  const index = new Map(encoded.map((au, i) => [hex(au), i]));
  const at = served.map((au) => index.get(hex(au)));
  expect(at.every((i) => i !== undefined)).toBe(true);
  for (let k = 1; k < at.length; k++) expect(at[k]).toBe((at[k - 1]! + 1) % encoded.length);
  expect(await probeH264(Buffer.concat(served))).toMatchObject({
    width: 320,
    height: 240,
    frames: served.length,
  });
});

it('refuses a profile or an encoder on an h264 source, naming the field', async () => {
  const h264: H264Source = { width: 320, height: 240, fps: 30, start: () => () => undefined };
  const app = createApp({
    logger: silentLogger,
    plugins: [inProcess(), nvencMedia({ streams: [{ id: 'x', source: { h264 }, profile: '480p30' }] })],
  });
  await expect(app.start()).rejects.toThrow(/h264 source is copied, not encoded/);
  await app.stop().catch(() => undefined);
});
