/**
 * Glass-to-glass latency over loopback: the test pattern, stamped with its time as each frame is
 * made, goes through the encoder (libx264 here, NVENC on a GPU), the SFU and WebRTC into Debian's
 * Chromium, which reads the stamp back when the frame is presented (`requestVideoFrameCallback`).
 * The baseline is the HLS fallback of the same encode, played by hls.js in the same browser.
 * Goal: p50 ≤ 50 ms at 720p on the CPU; the floor is about one frame interval plus encode and decode.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@telekit/core';
import { type BenchMeasurement, type Benchmark, quantile } from '@telekit/testkit/bench';
import { testPatternSource } from '@telekit/testkit/fakes';
import {
  chooseEncoder,
  createSfu,
  createWorker,
  type EncoderProfile,
  profiles,
  SupervisedEncoder,
} from '../src/index.js';
import { launchChromium, viewerServer } from '../test/browser/harness.js';

const WARMUP_MS = 3_000;
const MEASURE_MS = 8_000;

async function glassToGlass(profile: EncoderProfile, mode: 'webrtc' | 'hls'): Promise<BenchMeasurement> {
  const worker = await createWorker();
  const sfu = await createSfu({ worker });
  const stream = await sfu.addStream('cam');
  const hlsDir = mode === 'hls' ? mkdtempSync(join(tmpdir(), 'telekit-bench-hls-')) : undefined;
  const source = testPatternSource({
    width: profile.width,
    height: profile.height,
    fps: profile.fps,
    scroll: false,
  });
  const { encoder: name } = await chooseEncoder('auto');
  const encoder = new SupervisedEncoder({
    encoder: name,
    profile,
    input: { kind: 'stdin' },
    rtp: { ...stream.ingest },
    ...(hlsDir ? { hlsDir } : {}),
    logger: silentLogger,
  });
  const feeding = encoder.feed(source.frames$);
  // hls.js gives up on a playlist that is not there yet.
  while (hlsDir && !existsSync(join(hlsDir, 'index.m3u8'))) await new Promise((r) => setTimeout(r, 100));
  const { url, server } = await viewerServer(sfu, hlsDir ? { hlsDir } : {});
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: profile.width, height: profile.height } });
    await page.goto(`${url}?mode=${mode}`);
    await page.waitForFunction(
      () => window.telekitViewer?.frames > 0 || window.telekitViewer?.error,
      undefined,
      {
        timeout: 60_000,
      },
    );
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const from = await page.evaluate(() => window.telekitViewer.latencies.length);
    const frames0 = await page.evaluate(() => window.telekitViewer.frames);
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const state = await page.evaluate(() => window.telekitViewer);
    if (state.error) throw new Error(state.error);
    const samples = state.latencies.slice(from);
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      samples,
      extra: {
        p95: `${quantile(sorted, 0.95).toFixed(1)} ms`,
        'fps shown': ((state.frames - frames0) / (MEASURE_MS / 1000)).toFixed(1),
        'dropped at the encoder input': feeding.dropped,
        encoder: name,
      },
    };
  } finally {
    await browser.close();
    server.close();
    feeding.unsubscribe();
    await source.close();
    await encoder.close();
    sfu.close();
    worker.close();
    if (hlsDir) rmSync(hlsDir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'media.glass-to-glass-720p',
    title: 'media-nvenc: glass-to-glass latency at 1280×720, source stamp → Chromium presentation (loopback)',
    kind: 'latency',
    baseline: {
      name: 'HLS fallback of the same encode, 720p30 (hls.js)',
      run: () => glassToGlass(profiles['720p30'], 'hls'),
    },
    candidates: [
      { name: 'WebRTC through mediasoup, 720p30', run: () => glassToGlass(profiles['720p30'], 'webrtc') },
      { name: 'WebRTC through mediasoup, 720p60', run: () => glassToGlass(profiles['720p60'], 'webrtc') },
    ],
  },
];
