import { describe, expect, it } from 'vitest';
import { VideoTimeline } from './video-timeline.js';

/**
 * An encoder run as the SFU sees it: frame n has RTP timestamp `ts(n)` (irregular: the encoder
 * stamps frames when it reads them), every 4th is a keyframe; the source sent frame n at `sent(n)`.
 */
const GOP = 4;
const ts = (n: number) => (4_294_000_000 + n * 3_000 + (n % 3) * 400) % 2 ** 32; // wraps past 2³²
const sent = (n: number) => 10_000 + n * 33;

function run(t: VideoTimeline, frames: number, traced: (n: number) => boolean) {
  t.encoderStarted(9_000);
  for (let n = 0; n < frames; n++) {
    const at = sent(n) + 7;
    if (n % GOP === 0) t.keyframe(ts(n), at);
    const on = traced(n);
    if (on && !traced(n - 1)) t.tracing(true);
    if (!on && traced(n - 1)) t.tracing(false);
    // With the trace off, only keyframes are reported.
    if (on || n % GOP === 0) t.sfuIn(ts(n), at, on);
    if (on) t.sfuOut('viewer', ts(n), at + 1);
  }
  // The source's timings come a moment later than the packets.
  for (let n = 0; n < frames; n++)
    t.sourceFrame({
      seq: n + 1,
      connection: 1,
      index: n,
      capturedAt: sent(n) - 12,
      readyAt: sent(n) - 2,
      sentAt: sent(n),
    });
}

describe('VideoTimeline', () => {
  it('numbers the traced frames from the keyframes and joins them with the source’s', () => {
    const t = new VideoTimeline({ gop: GOP });
    // Traced from frame 6 to 13: frames 6 and 7 counted back from keyframe 8, 9–13 forward.
    run(t, 20, (n) => n >= 6 && n <= 13);
    for (const n of [0, 4, 6, 7, 8, 9, 13, 16])
      expect(t.rtpTimestampOf({ index: n, sentAt: sent(n) })).toBe(ts(n));
    for (const n of [1, 5, 14, 17]) expect(t.rtpTimestampOf({ index: n, sentAt: sent(n) })).toBeUndefined();
    const stages = Object.fromEntries(t.budget(sent(20)).stages.map((s) => [s.stage, s.p50]));
    expect(stages).toEqual({ render: 12, encode: 7, sfu: 1 });
    const frames = t.framesFor('viewer');
    expect(frames.map((f) => f.rtpTimestamp)).toEqual([6, 7, 8, 9, 10, 11, 12, 13].map(ts));
    expect(frames[0]).toMatchObject({
      capturedAt: sent(6) - 12,
      sentAt: sent(6),
      sfuInAt: sent(6) + 7,
      sfuOutAt: sent(6) + 8,
    });
  });

  it('numbers nothing from a traced stretch without a keyframe', () => {
    const t = new VideoTimeline({ gop: GOP });
    run(t, 12, (n) => n === 5 || n === 6 || n === 7);
    for (const n of [5, 6, 7]) expect(t.rtpTimestampOf({ index: n, sentAt: sent(n) })).toBeUndefined();
    // The encode stage only from the keyframes (always numbered); the SFU's own needs no numbering.
    expect(t.budget(sent(12)).stages.find((s) => s.stage === 'encode')?.count).toBe(3);
  });
});
