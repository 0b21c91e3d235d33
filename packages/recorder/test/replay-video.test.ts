import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, silentLogger } from '@telekit/core';
import { AccessUnitTapToken } from '@telekit/media-nvenc';
import { probeH264 } from '@telekit/testkit/media';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startReplayServer } from '../src/cli.js';
import { createReplay, ReplayToken, readRecording, recordedVideoStreams } from '../src/index.js';
import { recordTestPattern } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-replay-video-'));
let file = '';
/** The recorded access units of `/video/cam`, in order. */
let recorded: Buffer[] = [];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// About three seconds of video recorded as video.test.ts records it: ffmpeg encodes its test
// pattern (320×240, a keyframe a second), mediasoup forwards it, the recorder writes the tap's units.
beforeAll(async () => {
  file = await recordTestPattern(dir, 90);
  recorded = (await readRecording(file)).messages
    .filter((m) => m.topic === '/video/cam')
    .map((m) => Buffer.from((m.json as { data: string }).data, 'base64'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('finds the recorded video streams with their size and rate', async () => {
  expect(await recordedVideoStreams(await readRecording(file))).toEqual([
    { id: 'cam', width: 320, height: 240, fps: expect.any(Number) },
  ]);
});

// `telekit replay`'s server with the real parts: the media plugin copies the recorded H.264 into
// RTP (ffmpeg, `-c:v copy`) and mediasoup; a consumer of the SFU's producer (the media plugin's
// access-unit tap, which gets the packets every WebRTC viewer gets) rebuilds the pictures, and
// ffprobe decodes them. Copied, not encoded again: each served picture is a recorded one, byte for
// byte, in the recorded order. HLS is served from the same copy through the gateway.
it('serves the recorded video through the media plugin: the same pictures, decodable, WebRTC and HLS', {
  timeout: 120_000,
}, async () => {
  let server: Awaited<ReturnType<typeof startReplayServer>> | undefined;
  try {
    server = await startReplayServer({ file, speed: 1 });
    const { app, url } = server;
    const r = app.resolve(ReplayToken);
    expect(r.videoStreams).toEqual(['cam']);
    const served: Buffer[] = [];
    const sub = app
      .resolve(AccessUnitTapToken)
      .accessUnits$('cam', 'test')
      .subscribe((au) => served.push(Buffer.from(au.data)));
    try {
      await vi.waitFor(() => expect(served.length).toBeGreaterThanOrEqual(30), {
        timeout: 60_000,
        interval: 100,
      });
    } finally {
      sub.unsubscribe();
    }
    const index = new Map(recorded.map((au, i) => [hex(au), i]));
    const at = served.map((au) => index.get(hex(au)));
    expect(at.every((i) => i !== undefined)).toBe(true);
    // In the recorded order, none skipped (a replay at 1× drops nothing here).
    for (let k = 1; k < at.length; k++) expect(at[k]).toBe(at[k - 1]! + 1);
    const probed = await probeH264(Buffer.concat(served));
    expect(probed).toMatchObject({ width: 320, height: 240, frames: served.length });

    // HLS from the same ffmpeg, through the gateway (any token lets a viewer in).
    const playlist = `${url}/media/hls/cam/index.m3u8?token=viewer`;
    let segment = '';
    await vi.waitFor(
      async () => {
        const text = await (await fetch(playlist)).text();
        segment = text.split('\n').find((l) => l.endsWith('.ts')) ?? '';
        expect(segment).not.toBe('');
      },
      { timeout: 60_000, interval: 500 },
    );
    const ts = await fetch(`${url}/media/hls/cam/${segment}?token=viewer`);
    expect(ts.status).toBe(200);
    expect((await ts.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  } finally {
    await server?.app.stop();
  }
});

// The video follows the replay's clock: nothing while paused; at a watch and after a seek, the
// keyframe at or before the position and the pictures from there to it; then the recorded pace.
it('plays the pictures on the replay clock: paused, seek from the keyframe before, then in order', async () => {
  const recording = await readRecording(file);
  const app = createApp({ logger: silentLogger, plugins: [inProcess()] });
  await app.start();
  const r = createReplay(recording.messages, app.transport, { paused: true, speed: 4 });
  try {
    const got: Buffer[] = [];
    const stop = r.watchVideo('cam', (au) => got.push(Buffer.from(au)));
    expect(() => r.watchVideo('nope', () => undefined)).toThrow(/no video stream nope/);
    await new Promise((res) => setTimeout(res, 300));
    expect(got).toEqual([]); // at 0, paused: nothing played yet
    const keyframes = recorded.flatMap((au, i) => (isIdr(au) ? [i] : []));
    expect(keyframes.length).toBeGreaterThanOrEqual(2);
    const units = recording.messages.filter((m) => m.topic === '/video/cam');
    const t0 = Math.min(
      ...recording.messages
        .filter((m) => m.topic.startsWith('/video/') || m.topic.startsWith('/telemetry/'))
        .map((m) => Number(m.logTime / 1_000n) / 1000),
    );
    const target = keyframes[1]! + 5;
    // Halfway between the target's picture and the next: the target is the position's picture.
    const ms = (i: number) => Number(units[i]!.logTime / 1_000n) / 1000 - t0;
    r.seek((ms(target) + ms(target + 1)) / 2);
    expect(got.map(hex)).toEqual(recorded.slice(keyframes[1], target + 1).map(hex));
    got.length = 0;
    r.play();
    await vi.waitFor(() => expect(got.length).toBeGreaterThanOrEqual(10), { timeout: 20_000 });
    expect(got.slice(0, 10).map(hex)).toEqual(recorded.slice(target + 1, target + 11).map(hex));
    stop();
  } finally {
    r.close();
    await app.stop();
  }
});

function isIdr(au: Uint8Array): boolean {
  for (let i = 0; i + 3 < au.length; i++)
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && (au[i + 3]! & 0x1f) === 5) return true;
  return false;
}
