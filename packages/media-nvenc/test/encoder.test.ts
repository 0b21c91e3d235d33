import { silentLogger } from '@telekit/core';
import { testPatternSource } from '@telekit/testkit/fakes';
import type { types } from 'mediasoup';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  chooseEncoder,
  createSfu,
  createWorker,
  encoderArgs,
  MEDIASOUP_VERSION,
  probeEncoder,
  profiles,
  SupervisedEncoder,
} from '../src/index.js';

let worker: types.Worker;
beforeAll(async () => {
  worker = await createWorker();
});
afterAll(() => worker?.close());

describe('encoder', () => {
  it('runs on the mediasoup worker built from source, version 3.12.16', () => {
    expect(MEDIASOUP_VERSION).toBe('3.12.16');
    expect(worker.pid).toBeGreaterThan(0);
  });

  it('probes instead of assuming: NVENC is listed by ffmpeg here but does not work; auto picks libx264', async () => {
    const nvenc = await probeEncoder('h264_nvenc');
    const x264 = await probeEncoder('libx264');
    expect(x264.ok).toBe(true);
    if (!nvenc.ok) {
      expect(nvenc.reason.length).toBeGreaterThan(0);
      expect(await chooseEncoder('auto')).toMatchObject({ encoder: 'libx264' });
    } else {
      expect(await chooseEncoder('auto')).toMatchObject({ encoder: 'h264_nvenc' });
    }
    await expect(chooseEncoder('h264_nvenc')).rejects.toThrow(
      nvenc.ok ? /never/ : /encoder h264_nvenc does not work here/,
    );
  });

  it('builds low-latency command lines: no B-frames, zerolatency, GOP ≤ 1 s, constrained bitrate', () => {
    const rtp = { host: '127.0.0.1', port: 5004, payloadType: 102, ssrc: 42 };
    const x264 = encoderArgs({
      encoder: 'libx264',
      profile: profiles['1080p60'],
      input: { kind: 'stdin' },
      rtp,
    }).join(' ');
    expect(x264).toContain('-tune zerolatency');
    expect(x264).toContain('-bf 0');
    expect(x264).toContain('-g 60');
    expect(x264).toContain('keyint=60:min-keyint=60:scenecut=0');
    expect(x264).toContain('-b:v 9000k -maxrate 9000k');
    expect(x264).toContain('-s 1920x1080 -r 60 -i pipe:0');
    const nvenc = encoderArgs({
      encoder: 'h264_nvenc',
      profile: profiles['720p30'],
      input: { kind: 'test-pattern' },
      rtp,
    }).join(' ');
    expect(nvenc).toContain('-tune ull -zerolatency 1 -delay 0');
    const camera = encoderArgs({
      encoder: 'libx264',
      profile: profiles['720p30'],
      input: { kind: 'v4l2', device: '/dev/video2' },
      rtp,
      hlsDir: '/tmp/hls',
    }).join(' ');
    expect(camera).toContain('-f v4l2 -framerate 30 -video_size 1280x720 -i /dev/video2');
    // One encode, two outputs: RTP to the SFU and HLS.
    expect(camera).toContain('-f tee [f=rtp:payload_type=102:ssrc=42]rtp://127.0.0.1:5004');
    expect(camera).toContain('|[f=hls:hls_time=1:');
    expect(nvenc).toContain('-g 30');
  });

  it('copies an h264 input (IVF on stdin) into RTP and HLS: no encoder options, no re-timing', () => {
    const rtp = { host: '127.0.0.1', port: 5004, payloadType: 102, ssrc: 42 };
    const copy = encoderArgs({
      encoder: 'copy',
      profile: { width: 320, height: 240, fps: 30, bitrateKbps: 0, gopSeconds: 1 },
      input: { kind: 'h264' },
      rtp,
      hlsDir: '/tmp/hls',
    }).join(' ');
    expect(copy).toContain('-f ivf -i pipe:0');
    expect(copy).toContain('-c:v copy');
    expect(copy).toContain('-f tee [f=rtp:payload_type=102:ssrc=42]rtp://127.0.0.1:5004');
    for (const absent of ['libx264', '-vf', '-b:v', '-g ', 'nobuffer']) expect(copy).not.toContain(absent);
    expect(() =>
      encoderArgs({ encoder: 'libx264', profile: profiles['480p30'], input: { kind: 'h264' }, rtp }),
    ).toThrow(/encoder libx264 does not fit input h264/);
    expect(() =>
      encoderArgs({ encoder: 'copy', profile: profiles['480p30'], input: { kind: 'stdin' }, rtp }),
    ).toThrow(/encoder copy does not fit input stdin/);
  });

  it('binds ffmpeg’s RTP and RTCP sockets to loopback when the SFU is on loopback, and only then', () => {
    const url = (host: string, localAddress?: string) =>
      encoderArgs({
        encoder: 'libx264',
        profile: profiles['480p30'],
        input: { kind: 'test-pattern' },
        rtp: {
          host,
          port: 5004,
          payloadType: 102,
          ssrc: 1,
          localPort: 6000,
          ...(localAddress ? { localAddress } : {}),
        },
      }).at(-1);
    expect(url('127.0.0.1')).toBe(
      'rtp://127.0.0.1:5004?pkt_size=1200&localaddr=127.0.0.1&localrtpport=6000&localrtcpport=6001',
    );
    expect(url('localhost')).toContain('&localaddr=127.0.0.1&');
    expect(url('10.0.0.5')).not.toContain('localaddr');
    expect(url('10.0.0.5', '10.0.0.2')).toContain('&localaddr=10.0.0.2&');
  });

  it('an encoder that dies is restarted and the producer keeps receiving, same SSRC', {
    timeout: 40_000,
  }, async () => {
    const sfu = await createSfu({ worker });
    const stream = await sfu.addStream('restart-drill');
    const producer = stream.producer;
    const { encoder } = await chooseEncoder('auto');
    const enc = new SupervisedEncoder({
      encoder,
      profile: { ...profiles['480p30'], width: 320, height: 240 },
      input: { kind: 'test-pattern' },
      rtp: { ...stream.ingest },
      logger: silentLogger,
    });
    const bytes = async () => (await producer.getStats())[0]?.byteCount ?? 0;
    try {
      await vi.waitFor(async () => expect(await bytes()).toBeGreaterThan(5_000), {
        timeout: 10_000,
        interval: 200,
      });
      enc.process!.kill('SIGKILL');
      await firstValueFrom(enc.status$.pipe(filter((s) => s.restarts === 1 && s.running)));
      const before = await bytes();
      await vi.waitFor(async () => expect(await bytes()).toBeGreaterThan(before + 5_000), {
        timeout: 10_000,
        interval: 200,
      });
      expect(enc.status.lastExit).toBe('killed by SIGKILL');
    } finally {
      await enc.close();
      sfu.close();
    }
  });

  it('encodes frames from a MediaSource fed through stdin', { timeout: 30_000 }, async () => {
    const sfu = await createSfu({ worker });
    const stream = await sfu.addStream('from-source');
    const source = testPatternSource({ width: 160, height: 120, fps: 30 });
    const { encoder } = await chooseEncoder('auto');
    const enc = new SupervisedEncoder({
      encoder,
      profile: { width: 160, height: 120, fps: 30, bitrateKbps: 300, gopSeconds: 1 },
      input: { kind: 'stdin' },
      rtp: { ...stream.ingest },
      logger: silentLogger,
    });
    const feeding = enc.feed(source.frames$);
    try {
      await vi.waitFor(
        async () => expect((await stream.producer.getStats())[0]?.byteCount ?? 0).toBeGreaterThan(5_000),
        {
          timeout: 15_000,
          interval: 200,
        },
      );
      expect(feeding.dropped).toBeLessThan(30);
    } finally {
      feeding.unsubscribe();
      await source.close();
      await enc.close();
      sfu.close();
    }
  });
});
