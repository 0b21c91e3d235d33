import { type Clock, type MediaSource, systemClock } from '@telekit/core';
import { type Frame, frameByteLength, type MediaSourceInfo } from '@telekit/core/contracts';
import { stampFrame } from '@telekit/core/media';
import { EMPTY, Observable, share } from 'rxjs';

/** Options of {@link testPatternSource}. */
export interface TestPatternOptions {
  width?: number;
  height?: number;
  fps?: number;
  clock?: Clock;
  name?: string;
  /** Scroll the bars one column per frame (default true); false keeps them still. */
  scroll?: boolean;
  /** Write each frame's timestamp into its top-left corner for glass-to-glass measurement (default true). */
  stamp?: boolean;
}

/**
 * An in-memory media source: vertical colour bars (white, yellow, cyan, green, magenta, red, blue)
 * that scroll one column per frame, RGBA, each frame stamped with its time (see `stampFrame` in
 * `@telekit/core`). It runs
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
    const shift = options.scroll === false ? 0 : seq % width;
    // One row of bars, copied down the picture.
    for (let col = 0; col < width; col++) {
      const bar = bars[Math.floor((((col + shift) % width) * bars.length) / width)]!;
      data.set([bar[0], bar[1], bar[2], 255], col * 4);
    }
    const row = width * 4;
    for (let r = 1; r < height; r++) data.copyWithin(r * row, 0, row);
    const timestamp = clock.now();
    if (options.stamp !== false) stampFrame(data, width, height, timestamp);
    return { width, height, format: 'rgba', timestamp, seq: seq++, data };
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
