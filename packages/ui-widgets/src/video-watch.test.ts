import type { StreamInfo } from '@telekit/core/schemas';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type MediaRequester, type VideoSession, type VideoStats, VideoWatch } from './video-watch.js';

const cam: StreamInfo = {
  id: 'cam',
  label: 'cam',
  codec: 'h264',
  width: 320,
  height: 240,
  fps: 30,
  hls: '/media/hls/cam/index.m3u8',
};

/** A gateway client answering `/media/streams` and `/media/stats` (with `frames`, when set). */
function requester(frames: () => unknown[] = () => []): MediaRequester & { topics: string[] } {
  const topics: string[] = [];
  return {
    topics,
    estimate: { offset: 0 },
    async request<T>(topic: string): Promise<T> {
      topics.push(topic);
      if (topic === '/media/streams') return { streams: [cam] } as T;
      if (topic === '/media/stats')
        return {
          streams: [{ stream: 'cam', state: 'live' }],
          frames: [{ consumer: 'c1', frames: frames() }],
        } as T;
      throw new Error(`unexpected ${topic}`);
    },
  };
}

/** A session whose first frame comes when `show()` is called. */
function session(mode: 'webrtc' | 'hls') {
  let show!: () => void;
  let fail!: (e: Error) => void;
  const firstFrame = new Promise<void>((resolve, reject) => {
    show = resolve;
    fail = reject;
  });
  firstFrame.catch(() => undefined);
  const failed$ = new Subject<string>();
  const s: VideoSession & { closed: boolean } = {
    mode,
    consumer: 'c1',
    firstFrame,
    failed$,
    closed: false,
    sample: async () => ({ bytes: 1_000, jitterMs: 2 }),
    close() {
      s.closed = true;
    },
  };
  return { s, show, fail, failed$ };
}

let clock = 0;
const now = () => clock;
beforeEach(() => {
  vi.useFakeTimers();
  clock = 10_000;
});
afterEach(() => vi.useRealTimers());

const states = (watch: VideoWatch) => {
  const seen: VideoStats['state'][] = [];
  watch.stats$.subscribe((s) => {
    if (seen.at(-1) !== s.state) seen.push(s.state);
  });
  return seen;
};

describe('VideoWatch: the sequence', () => {
  it('plays over WebRTC; stop closes the session and goes idle', async () => {
    const w = session('webrtc');
    const watch = new VideoWatch({
      client: requester(),
      players: { webrtc: async () => w.s, hls: () => Promise.reject(new Error('no')) },
      now,
      timeOrigin: 0,
    });
    const seen = states(watch);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    clock += 120;
    watch.presented({ now: clock });
    w.show();
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.stats).toMatchObject({ mode: 'webrtc', state: 'playing', frames: 1, firstFrameMs: 120 });
    watch.stop();
    expect(w.s.closed).toBe(true);
    expect(seen).toEqual(['idle', 'starting', 'playing', 'idle']);
  });

  it('falls back to HLS when WebRTC does not come up (auto)', async () => {
    const h = session('hls');
    const watch = new VideoWatch({
      client: requester(),
      players: { webrtc: () => Promise.reject(new Error('ICE failed')), hls: async () => h.s },
      now,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    h.show();
    await vi.advanceTimersByTimeAsync(0);
    watch.presented({ now: clock });
    expect(watch.stats).toMatchObject({ mode: 'hls', state: 'playing' });
    watch.close();
  });

  it('with mode webrtc, a failure is shown and tried again; a dropped connection starts over', async () => {
    let attempts = 0;
    const w = session('webrtc');
    const watch = new VideoWatch({
      client: requester(),
      players: {
        webrtc: async () => {
          attempts++;
          if (attempts === 1) throw new Error('ICE failed');
          return w.s;
        },
        hls: () => Promise.reject(new Error('not asked')),
      },
      mode: 'webrtc',
      retryMs: 3_000,
      now,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.stats).toMatchObject({ state: 'unavailable', error: 'WebRTC: ICE failed' });
    await vi.advanceTimersByTimeAsync(3_000);
    w.show();
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toBe(2);
    w.failed$.next('WebRTC failed');
    expect(watch.stats.state).toBe('unavailable');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(w.s.closed).toBe(true);
    expect(attempts).toBe(3);
    watch.close();
  });

  it('a session that comes after stop() is closed at once', async () => {
    let resolve!: (s: VideoSession) => void;
    const w = session('webrtc');
    const watch = new VideoWatch({
      client: requester(),
      players: {
        webrtc: () => new Promise((r) => (resolve = r)),
        hls: () => Promise.reject(new Error('no')),
      },
      now,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    watch.stop();
    resolve(w.s);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.s.closed).toBe(true);
    expect(watch.stats.state).toBe('idle');
  });
});

describe('VideoWatch: the latency budget', () => {
  it('joins each frame with its server times by RTP timestamp, checked against the stamp', async () => {
    // Frame k: rendered at T, ready T+8, sent T+9, at the SFU T+15, out T+16; received T+18,
    // handed to the compositor T+30 after a 4 ms decode, on the glass T+40.
    const frames: {
      rtpTimestamp: number;
      capturedAt: number;
      readyAt: number;
      sentAt: number;
      sfuInAt: number;
      sfuOutAt: number;
    }[] = [];
    const w = session('webrtc');
    const watch = new VideoWatch({
      client: requester(() => frames),
      players: { webrtc: async () => w.s, hls: () => Promise.reject(new Error('no')) },
      now,
      timeOrigin: 1_000_000,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    w.show();
    for (let k = 0; k < 30; k++) {
      const T = clock; // page time; the server's clock is timeOrigin + page time (offset 0)
      const server = 1_000_000 + T;
      frames.push({
        rtpTimestamp: 3_000 * k,
        capturedAt: server,
        readyAt: server + 8,
        sentAt: server + 9,
        sfuInAt: server + 15,
        sfuOutAt: server + 16,
      });
      clock = T + 40;
      watch.presented({
        now: clock,
        glassToGlassMs: 40,
        rtpTimestamp: 3_000 * k,
        receiveTime: T + 18,
        processingDuration: 0.004,
        presentationTime: T + 30,
        expectedDisplayTime: T + 40,
      });
    }
    // A frame whose stamp does not match the server's frame of that timestamp is not joined.
    frames.push({ rtpTimestamp: 999, capturedAt: 1, readyAt: 2, sentAt: 3, sfuInAt: 4, sfuOutAt: 5 });
    watch.presented({ now: clock, glassToGlassMs: 40, rtpTimestamp: 999, receiveTime: clock - 10 });
    await vi.advanceTimersByTimeAsync(1_000);
    const b = watch.stats.budget;
    const p50 = Object.fromEntries(b.stages.map((s) => [s.stage, s.p50]));
    expect(p50).toEqual({ render: 9, encode: 6, sfu: 1, network: 2, buffer: 8, decode: 4, present: 10 });
    expect(b.stages.find((s) => s.stage === 'network')?.count).toBe(30);
    expect(b.glassToGlass).toMatchObject({ p50: 40, p99: 40, count: 31 });
    // The stages add up to glass-to-glass.
    expect(Object.values(p50).reduce((a, v) => a + v, 0)).toBe(40);
    watch.close();
  });

  it('waits for the source’s times of a frame, and joins without them once the frame is 1.5 s old', async () => {
    const w = session('webrtc');
    const watch = new VideoWatch({
      client: requester(),
      players: { webrtc: async () => w.s, hls: () => Promise.reject(new Error('no')) },
      now,
      timeOrigin: 0,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    w.show();
    watch.presented({ now: clock, rtpTimestamp: 7, receiveTime: clock - 5 });
    const partial = { rtpTimestamp: 7, sfuInAt: clock - 10, sfuOutAt: clock - 9 };
    watch.serverFrames([partial]);
    expect(watch.budget().stages.map((s) => s.stage)).not.toContain('sfu');
    clock += 1_600;
    watch.serverFrames([partial]);
    const stages = Object.fromEntries(watch.budget().stages.map((s) => [s.stage, s.p50]));
    expect(stages).toMatchObject({ sfu: 1, network: 4 });
    expect(stages.render).toBeUndefined();
    watch.close();
  });

  it('an HLS session (no WebRTC timings) still has glass-to-glass, and nothing it cannot measure', async () => {
    const h = session('hls');
    const watch = new VideoWatch({
      client: requester(),
      players: { webrtc: () => Promise.reject(new Error('no')), hls: async () => h.s },
      now,
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    h.show();
    await vi.advanceTimersByTimeAsync(0);
    watch.presented({ now: clock, glassToGlassMs: 1_400 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(watch.stats.budget.stages).toEqual([]);
    expect(watch.stats.budget.glassToGlass?.p50).toBe(1_400);
    watch.close();
  });
});
