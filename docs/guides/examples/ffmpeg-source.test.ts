import { execFileSync } from 'node:child_process';
import { readStamp, stampLatency } from '@telekit/core/media';
import { describeMediaSource, eventually } from '@telekit/testkit';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ffmpegSource } from './ffmpeg-source.js';

/** ffmpeg is a system package (Debian's `ffmpeg`); without it this suite says so and skips. */
const ffmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** ffmpeg processes whose arguments mention `marker`. */
const running = (marker: string) => {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
      .length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
};

if (ffmpeg) {
  // A real ffmpeg reading its own test pattern at its real rate, as a camera would deliver.
  describeMediaSource('ffmpeg test pattern (the guide)', async () =>
    ffmpegSource({
      input: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      width: 160,
      height: 120,
      fps: 30,
    }),
  );

  describe('ffmpegSource (the guide)', () => {
    it('stamps frames for glass-to-glass, and its ffmpeg ends with the last viewer', {
      timeout: 60_000,
    }, async () => {
      const marker = 'testsrc2=size=322x242:rate=30'; // this case's own ffmpeg
      const source = ffmpegSource({
        input: ['-re', '-f', 'lavfi', '-i', marker],
        width: 320,
        height: 240,
        fps: 30,
        stamp: true,
      });
      try {
        const frame = await firstValueFrom(source.frames$);
        const stamp = readStamp(frame.data, frame.width, frame.height);
        expect(stamp).toBeDefined();
        expect(stampLatency(stamp!, frame.timestamp)).toBe(0);
        await eventually('ffmpegSource', {
          expected: 'no ffmpeg left once the only viewer has gone',
          probe: () => running(marker) === 0,
          happened: () => `${running(marker)} still running`,
          timeoutMs: 30_000,
        });
      } finally {
        await source.close();
      }
    });
  });
} else
  describe('MediaSource conformance: ffmpeg test pattern (the guide)', () => {
    it.skip('skipped: no ffmpeg on this machine (apt-get install ffmpeg)', () => {});
  });
