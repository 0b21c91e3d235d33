import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessUnitTapToken } from '@telekit/media-nvenc';
import { probeH264 } from '@telekit/testkit/media';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import { RecorderVideoTapToken, readRecording } from '../src/index.js';
import { recordTestPattern } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'telekit-video-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

it('names the media tap by the same token', () => {
  expect(RecorderVideoTapToken).toBe(AccessUnitTapToken);
});

// The real parts: ffmpeg encodes a test source, mediasoup forwards it, the media plugin's access-unit
// tap hands the pictures to the recorder, and ffprobe decodes what the file holds.
it('records each video stream as foxglove.CompressedVideo whose access units decode with ffmpeg', {
  timeout: 120_000,
}, async () => {
  const file = await recordTestPattern(dir, 60);

  const recording = await readRecording(file);
  expect(recording.read).toBe('indexed');
  const channel = recording.channels.get('/video/cam')!;
  expect(channel.schemaName).toBe('foxglove.CompressedVideo');
  const check = new Ajv2020({ strict: false }).compile(channel.schema);
  const units = recording.messages
    .filter((m) => m.topic === '/video/cam')
    .map((m) => m.json as { format: string; frame_id: string; data: string });
  for (const u of units) {
    expect(check(u)).toBe(true);
    expect(u).toMatchObject({ format: 'h264', frame_id: 'cam' });
  }
  const annexB = Buffer.concat(units.map((u) => Buffer.from(u.data, 'base64')));
  // Annex B from the first message on: a start code, then an SPS (the stream starts at a keyframe).
  expect([...annexB.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
  expect(annexB[4]! & 0x1f).toBe(7);
  const probed = await probeH264(annexB);
  expect(probed).toMatchObject({ width: 320, height: 240 });
  expect(probed.frames).toBe(units.length);
});
