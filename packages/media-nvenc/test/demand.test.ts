import { createApp, inProcess, MediaSignallingToken, silentLogger } from '@telekit/core';
import { genesisSim, type SidecarHealth } from '@telekit/sim-genesis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MediaDemandToken, type MediaHealthData, nvencMedia } from '../src/index.js';
import { descendants } from './processes.js';

// Video on demand with the real parts: the MuJoCo sidecar renders its camera and ffmpeg encodes it
// only while someone holds the stream — through the demand API, a WebRTC join, an HLS request.
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      genesisSim({
        scene: { id: 'diff-drive' },
        camera: { camera: 'overview', width: 320, height: 240, fps: 30 },
        perfEveryMs: 250,
      }),
      nvencMedia({ lingerMs: 300, hlsHoldMs: 500, streams: [{ id: 'sim-camera', source: 'sim-camera' }] }),
    ],
  });
  await app.start();
}, 60_000);
afterAll(() => app?.stop());

const encoders = () => descendants(process.pid).filter((p) => p.comm === 'ffmpeg');
const health = async () => {
  const h = await app.health();
  return {
    camera: (h.plugins['@telekit/sim-genesis'] as SidecarHealth | undefined)?.data.camera,
    stream: (h.plugins['@telekit/media-nvenc']?.data as MediaHealthData | undefined)?.['sim-camera'],
  };
};
/** Frames the sidecar has rendered, once it has reported them. */
const rendered = async () => {
  await vi.waitFor(async () => expect((await health()).camera).toBeDefined(), { timeout: 20_000 });
  return (await health()).camera!.rendered;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nobody holds the stream: no encoder runs, the camera renders nothing, the stream is idle. */
async function expectIdle() {
  await vi.waitFor(() => expect(encoders()).toEqual([]), { timeout: 20_000, interval: 50 });
  await vi.waitFor(async () => expect((await health()).camera?.on).toBe(false), { timeout: 20_000 });
  // The count settles — the same over 1.5 s (a frame rendered just before the camera went off may
  // be reported late on a loaded machine) — then stays where it is.
  let before = await rendered();
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    await sleep(1_500);
    const was = before;
    before = await rendered();
    if (before === was) break;
  }
  await sleep(1_000);
  expect(await rendered()).toBe(before);
  expect(encoders()).toEqual([]);
  await vi.waitFor(async () => expect((await health()).stream?.state).toBe('idle'), { timeout: 20_000 });
}

/** Someone holds it: ffmpeg runs, the camera renders, video reaches the SFU. */
async function expectLive() {
  await vi.waitFor(() => expect(encoders()).toHaveLength(1), { timeout: 20_000, interval: 20 });
  await vi.waitFor(async () => expect((await health()).stream?.state).toBe('live'), {
    timeout: 20_000,
    interval: 100,
  });
  await vi.waitFor(async () => expect((await health()).camera?.on).toBe(true), { timeout: 20_000 });
}

describe('video on demand', () => {
  it('with nobody watching, the sidecar renders nothing and no encoder runs', {
    timeout: 90_000,
  }, async () => {
    await expectIdle();
    expect((await health()).stream).toMatchObject({ state: 'idle', holders: 0, fps: 0 });
  });

  it('a plugin holds the stream through MediaDemandToken; it stops lingerMs after the release', {
    timeout: 120_000,
  }, async () => {
    const demand = app.resolve(MediaDemandToken);
    const release = demand.acquire('sim-camera', 'recorder');
    expect(demand.holders('sim-camera')).toEqual(['recorder']);
    await expectLive();
    // The server's stages of the frames' trip: the render is timed by the sidecar, frame by frame.
    await vi.waitFor(
      async () =>
        expect((await health()).stream?.budget?.stages.map((s) => s.stage)).toEqual(
          expect.arrayContaining(['render', 'encode']),
        ),
      { timeout: 20_000, interval: 250 },
    );
    const second = demand.acquire('sim-camera', 'foxglove');
    release();
    release(); // twice: nothing more happens
    await sleep(800);
    expect(encoders()).toHaveLength(1);
    second();
    await expectIdle();
    expect(() => demand.acquire('no-such-stream', 'x')).toThrow('unknown stream');
  });

  it('a WebRTC join holds the stream on standby until the viewer leaves; an HLS request holds it for a while', {
    timeout: 120_000,
  }, async () => {
    const media = app.resolve(MediaSignallingToken);
    // A join puts the stream on standby: ffmpeg starts (it takes a moment), the camera waits for
    // the viewer's consumer to be resumed (then the encoder's first frame, a keyframe, reaches it).
    await media.request('viewer-1', '/media/join', { stream: 'sim-camera' });
    await vi.waitFor(() => expect(encoders()).toHaveLength(1), { timeout: 20_000, interval: 20 });
    await sleep(500);
    expect((await health()).camera?.on).toBe(false);
    expect((await health()).stream?.holders).toBe(1);
    media.release('viewer-1');
    await expectIdle();

    // Each HLS request holds the stream for hlsHoldMs: a player that keeps fetching keeps it running.
    expect(media.hlsDirectory?.('sim-camera')).toBeTruthy();
    const player = setInterval(() => media.hlsDirectory?.('sim-camera'), 200);
    try {
      await expectLive();
    } finally {
      clearInterval(player);
    }
    await expectIdle();
  });
});
