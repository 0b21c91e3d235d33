import { spawn } from 'node:child_process';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWorker, MEDIASOUP_VERSION } from '../src/index.js';

const H264 = {
  kind: 'video',
  mimeType: 'video/H264',
  clockRate: 90000,
  parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
} as const;

let worker: types.Worker;
beforeAll(async () => {
  worker = await createWorker();
});
afterAll(() => worker?.close());

describe(`mediasoup ${MEDIASOUP_VERSION} worker built from source`, () => {
  it('runs: a router with H.264, and a PlainTransport ingesting an ffmpeg RTP stream', {
    timeout: 30_000,
  }, async () => {
    expect(MEDIASOUP_VERSION).toBe('3.12.16');
    const router = await worker.createRouter({ mediaCodecs: [H264] });
    const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const ssrc = 1111;
    const producer = await plain.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/H264',
            payloadType: 102,
            clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
          },
        ],
        encodings: [{ ssrc }],
      },
    });
    const ffmpeg = spawn('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=30',
      '-t',
      '5',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-profile:v',
      'baseline',
      '-bf',
      '0',
      '-g',
      '30',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'rtp',
      '-payload_type',
      '102',
      '-ssrc',
      String(ssrc),
      `rtp://127.0.0.1:${plain.tuple.localPort}?pkt_size=1200`,
    ]);
    try {
      await vi.waitFor(
        async () => {
          const [stats] = await producer.getStats();
          expect(stats?.byteCount ?? 0).toBeGreaterThan(10_000);
        },
        { timeout: 10_000, interval: 200 },
      );
      const [stats] = await producer.getStats();
      expect(stats?.mimeType).toBe('video/H264');
      expect(stats?.packetCount).toBeGreaterThan(10);
    } finally {
      ffmpeg.kill('SIGKILL');
      router.close();
    }
  });
});
