import { describe, expect, it } from 'vitest';
import { isKeyframe, planReencode, planRemux, type VideoUnit } from './video.js';

const IDR = new Uint8Array([0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 1, 0, 0, 0, 1, 0x65, 1]);
const P = new Uint8Array([0, 0, 0, 1, 0x41, 1]);
/** Pictures at `fps` from t=0 (plus jitter), a keyframe every `gop`. */
const stream = (n: number, fps: number, gop: number, jitter = (_: number) => 0): VideoUnit[] =>
  Array.from({ length: n }, (_, i) => ({
    t: (i * 1000) / fps + jitter(i),
    data: i % gop ? P : IDR,
    keyframe: i % gop === 0,
  }));

describe('the video plan', () => {
  it('knows an IDR access unit', () => {
    expect(isKeyframe(IDR)).toBe(true);
    expect(isKeyframe(P)).toBe(false);
  });

  it('remuxes a stream at the grid rate, from the keyframe before the episode, its pictures as the frames', () => {
    const units = stream(100, 30, 30, (i) => (i % 3) - 1);
    const plan = planRemux(units, { start: 1000 + 2, frames: 40 }, 30);
    // Picture 30 (t=1000) is the first frame; it is a keyframe: no run-up.
    expect(plan).toEqual({ from: 30, to: 69, preroll: 0 });
    const later = planRemux(units, { start: 1400, frames: 20 }, 30);
    // Picture 42 (t=1400) starts it; the decoder runs up from picture 30.
    expect(later).toEqual({ from: 30, to: 61, preroll: 12 });
  });

  it('remuxes through arrival jitter: ±10 ms everywhere, a picture late by 2.5 frames, a stall caught up', () => {
    const noise = (i: number) => ((i * 7919) % 21) - 10;
    // A stall of 240 ms at picture 150, caught up by a burst.
    const stall = (i: number) => (i >= 150 && i < 158 ? 240 - (i - 150) * 33 : 0);
    const units = stream(
      200,
      30,
      30,
      (i) => noise(i) + (i === 50 ? 83 : 0) + (i === 120 ? 40 : 0) + stall(i),
    );
    expect(planRemux(units, { start: 0, frames: 190 }, 30)).toEqual({ from: 0, to: 189, preroll: 0 });
  });

  it('re-encodes what does not match the grid: another rate, a GOP of lost pictures, too few', () => {
    expect(planRemux(stream(100, 25, 25), { start: 0, frames: 60 }, 30)).toBeUndefined();
    const lostGop = stream(100, 30, 30).filter((_, i) => i < 40 || i >= 50);
    expect(planRemux(lostGop, { start: 0, frames: 90 }, 30)).toBeUndefined();
    const lostOne = stream(100, 30, 30).filter((_, i) => i !== 45);
    expect(planRemux(lostOne, { start: 0, frames: 90 }, 30)).toBeUndefined();
    // 0.5 % slow: over 6 s it drifts by a frame.
    expect(planRemux(stream(200, 29.85, 30), { start: 0, frames: 190 }, 30)).toBeUndefined();
    expect(planRemux(stream(40, 30, 30), { start: 0, frames: 60 }, 30)).toBeUndefined();
  });

  it('re-encodes by sample-and-hold: each frame shows the latest picture at or before its tick', () => {
    // 15 fps onto 30: each picture shows twice; the episode starts mid-GOP, so decoding starts at its keyframe.
    const plan = planReencode(stream(40, 15, 10), { start: 750, frames: 6 }, 30);
    // Pictures 10–13 at 667, 733, 800, 867 ms; ticks 750, 783, 817, 850, 883, 917 → pictures 11, 11,
    // 12, 12, 13, 13, decoded from the keyframe at 10 (shown on no frame).
    expect(plan).toEqual({ from: 10, to: 13, repeats: [0, 2, 2, 2], preroll: 0 });
    const early = planReencode(stream(10, 30, 5).slice(2), { start: 0, frames: 4 }, 30);
    // Before the first keyframe nothing decodes: the frames hold the first keyframe.
    expect(early.repeats?.[0]).toBeGreaterThanOrEqual(1);
    expect(early.from).toBe(3);
  });
});
