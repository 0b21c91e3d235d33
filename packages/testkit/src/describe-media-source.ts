import { frameByteLength, type MediaSource } from '@telekit/core';
import { firstValueFrom, take, timeout, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type SkipEntry, skipReason } from './skips.js';

/** Options of {@link describeMediaSource}. */
export interface DescribeMediaSourceOptions {
  /** How many frames to look at. Default 5. */
  frames?: number;
  /** Per-case timeout, ms. Default 10 000. */
  timeoutMs?: number;
  skip?: readonly SkipEntry[];
}

/**
 * The conformance kit for {@link MediaSource}.
 *
 * @example
 * ```ts
 * import { describeMediaSource } from '@telekit/testkit';
 * import { testPatternSource } from '@telekit/testkit/fakes';
 * describeMediaSource('test pattern', async () => testPatternSource({ fps: 60 }));
 * ```
 */
export function describeMediaSource(
  name: string,
  makeSource: () => Promise<MediaSource>,
  options: DescribeMediaSourceOptions = {},
): void {
  const n = options.frames ?? 5;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const test = (title: string, fn: (source: MediaSource) => Promise<void>) => {
    const reason = skipReason(title, options.skip);
    if (reason) {
      it.skip(`${title} (skipped: ${reason})`, () => {});
      return;
    }
    it(title, { timeout: timeoutMs }, async () => {
      const source = await makeSource();
      try {
        await fn(source);
      } finally {
        await source.close();
      }
    });
  };

  describe(`MediaSource conformance: ${name}`, () => {
    test('declares a usable size and rate', async (source) => {
      expect(source.info.width).toBeGreaterThan(0);
      expect(source.info.height).toBeGreaterThan(0);
      expect(source.info.fps).toBeGreaterThan(0);
    });

    test('emits frames that match what it declares', async (source) => {
      const frames = await firstValueFrom(source.frames$.pipe(take(n), toArray(), timeout(timeoutMs)));
      for (const f of frames) {
        expect(f.width).toBe(source.info.width);
        expect(f.height).toBe(source.info.height);
        expect(f.format).toBe(source.info.format);
        expect(f.data.byteLength).toBe(frameByteLength(f.format, f.width, f.height));
      }
      for (let i = 1; i < frames.length; i++) {
        expect(frames[i]!.seq).toBeGreaterThan(frames[i - 1]!.seq);
        expect(frames[i]!.timestamp).toBeGreaterThanOrEqual(frames[i - 1]!.timestamp);
      }
    });

    test('two viewers share one source: the same frames reach both', async (source) => {
      const a: number[] = [];
      const b: number[] = [];
      const subA = source.frames$.subscribe((f) => a.push(f.seq));
      const subB = source.frames$.subscribe((f) => b.push(f.seq));
      await firstValueFrom(source.frames$.pipe(take(n), toArray(), timeout(timeoutMs)));
      subA.unsubscribe();
      subB.unsubscribe();
      const common = a.filter((s) => b.includes(s));
      expect(common.length).toBeGreaterThanOrEqual(n - 1);
    });

    test('stops with the last viewer and starts again with the next', async (source) => {
      await firstValueFrom(source.frames$.pipe(take(2), toArray(), timeout(timeoutMs)));
      const again = await firstValueFrom(source.frames$.pipe(take(2), toArray(), timeout(timeoutMs)));
      expect(again).toHaveLength(2);
    });

    test('close completes frames$ and is safe twice', async (source) => {
      const done = new Promise<void>((resolve, reject) =>
        source.frames$.subscribe({ complete: resolve, error: reject }),
      );
      await firstValueFrom(source.frames$.pipe(timeout(timeoutMs)));
      await source.close();
      await source.close();
      await done;
      const after = await firstValueFrom(source.frames$.pipe(toArray(), timeout(timeoutMs)));
      expect(after).toEqual([]);
    });
  });
}
