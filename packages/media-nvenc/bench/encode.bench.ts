/**
 * Encoding speed on this machine: 300 frames of a test pattern encoded as fast as the encoder
 * goes, with Telekit's low-latency settings (ultrafast, zerolatency, no B-frames, GOP 1 s), against
 * libx264's default settings measured in the same run. Reports frames per second and the time per
 * frame.
 */
import { execFileSync } from 'node:child_process';
import type { BenchMeasurement, Benchmark } from '@telekit/testkit/bench';
import { type EncoderProfile, encoderArgs, profiles } from '../src/index.js';

const FRAMES = 300;

function encode(profile: EncoderProfile, codecArgs: string[]): BenchMeasurement {
  const { width, height, fps } = profile;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-frames:v',
    String(FRAMES),
    ...codecArgs,
    '-f',
    'null',
    '-',
  ];
  const t0 = performance.now();
  execFileSync('ffmpeg', args, { stdio: 'ignore' });
  const seconds = (performance.now() - t0) / 1000;
  return { rate: FRAMES / seconds, extra: { 'ms per frame': ((seconds * 1000) / FRAMES).toFixed(2) } };
}

/** Telekit's codec settings for a profile: the encoder arguments, less input and RTP output. */
function telekitCodec(profile: EncoderProfile): string[] {
  const all = encoderArgs({
    encoder: 'libx264',
    profile,
    input: { kind: 'test-pattern' },
    rtp: { host: '127.0.0.1', port: 5004, payloadType: 102, ssrc: 1 },
  });
  return all.slice(all.indexOf('-c:v'), all.indexOf('-an'));
}

const naive = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];

export const benchmarks: Benchmark[] = (['720p30', '1080p30'] as const).map((name) => ({
  id: `media.encode-${name}`,
  title: `media-nvenc: libx264 encode speed at ${profiles[name].width}×${profiles[name].height} (${FRAMES} frames, 2 cores)`,
  kind: 'throughput' as const,
  baseline: {
    name: 'libx264 defaults (preset medium, B-frames)',
    run: async () => encode(profiles[name], naive),
  },
  candidates: [
    {
      name: 'Telekit low-latency (ultrafast, zerolatency, no B-frames, GOP 1 s)',
      run: async () => encode(profiles[name], telekitCodec(profiles[name])),
    },
  ],
}));
