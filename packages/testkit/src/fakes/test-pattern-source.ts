import {
  type Clock,
  type Frame,
  frameByteLength,
  type MediaSource,
  type MediaSourceInfo,
  systemClock,
} from '@telekit/core';
import { EMPTY, Observable, share } from 'rxjs';

/** Options of {@link testPatternSource}. */
export interface TestPatternOptions {
  width?: number;
  height?: number;
  fps?: number;
  clock?: Clock;
  name?: string;
}

/**
 * An in-memory media source: vertical colour bars that scroll one column per frame, RGBA. It runs
 * only while someone watches (one timer shared by every subscriber).
 */
export function testPatternSource(options: TestPatternOptions = {}): MediaSource {
  const info: MediaSourceInfo = {
    width: options.width ?? 160,
    height: options.height ?? 120,
    fps: options.fps ?? 30,
    format: 'rgba',
  };
  const clock = options.clock ?? systemClock;
  const bars = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
  ] as const;
  let closed = false;
  let seq = 0;
  let stopAll: (() => void) | undefined;

  const render = (): Frame => {
    const { width, height } = info;
    const data = new Uint8Array(frameByteLength('rgba', width, height));
    const shift = seq % width;
    for (let col = 0; col < width; col++) {
      const bar = bars[Math.floor((((col + shift) % width) * bars.length) / width)]!;
      for (let row = 0; row < height; row++) {
        const i = (row * width + col) * 4;
        data[i] = bar[0];
        data[i + 1] = bar[1];
        data[i + 2] = bar[2];
        data[i + 3] = 255;
      }
    }
    return { width, height, format: 'rgba', timestamp: clock.now(), seq: seq++, data };
  };

  const live$ = new Observable<Frame>((subscriber) => {
    const timer = setInterval(() => subscriber.next(render()), 1000 / info.fps);
    stopAll = () => subscriber.complete();
    return () => {
      clearInterval(timer);
      stopAll = undefined;
    };
  }).pipe(share());

  return {
    name: options.name ?? 'test-pattern',
    info,
    frames$: new Observable<Frame>((subscriber) => (closed ? EMPTY : live$).subscribe(subscriber)),
    async close() {
      if (closed) return;
      closed = true;
      stopAll?.();
    },
  };
}
