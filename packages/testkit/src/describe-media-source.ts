import type { MediaSource } from '@telekit/core';
import { frameByteLength } from '@telekit/core/contracts';
import { firstValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { firstWithin, type SkipEntry, skipReason, within } from './skips.js';

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
  const suite = `MediaSource conformance: ${name}`;
  const test = (title: string, fn: (source: MediaSource, where: string) => Promise<void>) => {
    const reason = skipReason(title, options.skip);
    if (reason) {
      it.skip(`${title} (skipped: ${reason})`, () => {});
      return;
    }
    // Above the case's own waits, so that the kit's description, not vitest's, is the failure.
    it(title, { timeout: timeoutMs * 4 }, async () => {
      const source = await makeSource();
      try {
        await fn(source, `${suite} › ${title}`);
      } finally {
        await source.close();
      }
    });
  };

  /** The next `count` frames, or a failure saying how many came. */
  const frames = (where: string, source: MediaSource, count: number) => {
    let seen = 0;
    return firstWithin(
      where,
      `${count} frames on frames$`,
      source.frames$.pipe(
        tap(() => seen++),
        take(count),
        toArray(),
      ),
      timeoutMs,
      () => `${seen} came (the source declares ${source.info.fps} fps)`,
    );
  };

  describe(suite, () => {
    test('declares a usable size and rate', async (source) => {
      expect(source.info.width).toBeGreaterThan(0);
      expect(source.info.height).toBeGreaterThan(0);
      expect(source.info.fps).toBeGreaterThan(0);
    });

    test('emits frames that match what it declares', async (source, where) => {
      const got = await frames(where, source, n);
      for (const f of got) {
        expect(f.width).toBe(source.info.width);
        expect(f.height).toBe(source.info.height);
        expect(f.format).toBe(source.info.format);
        expect(f.data.byteLength).toBe(frameByteLength(f.format, f.width, f.height));
      }
      for (let i = 1; i < got.length; i++) {
        expect(got[i]!.seq, 'seq increases').toBeGreaterThan(got[i - 1]!.seq);
        expect(got[i]!.timestamp, 'timestamps never go back').toBeGreaterThanOrEqual(got[i - 1]!.timestamp);
      }
    });

    test('two viewers share one source: the same frames reach both', async (source, where) => {
      const a: number[] = [];
      const b: number[] = [];
      const subA = source.frames$.subscribe((f) => a.push(f.seq));
      const subB = source.frames$.subscribe((f) => b.push(f.seq));
      await frames(where, source, n);
      subA.unsubscribe();
      subB.unsubscribe();
      const common = a.filter((s) => b.includes(s));
      expect(
        common.length,
        `frames both viewers got: a [${a.join(', ')}], b [${b.join(', ')}]`,
      ).toBeGreaterThanOrEqual(n - 1);
    });

    test('stops with the last viewer and starts again with the next', async (source, where) => {
      await frames(where, source, 2);
      const again = await frames(where, source, 2);
      expect(again).toHaveLength(2);
    });

    test('close completes frames$ and is safe twice', async (source, where) => {
      const done = new Promise<void>((resolve, reject) =>
        source.frames$.subscribe({ complete: resolve, error: reject }),
      );
      await frames(where, source, 1);
      await source.close();
      await source.close();
      await within(where, 'frames$ to complete on close', done, timeoutMs);
      const after = await within(
        where,
        'frames$ to complete at once after close, with no frame',
        firstValueFrom(source.frames$.pipe(toArray())),
        timeoutMs,
      );
      expect(after).toEqual([]);
    });
  });
}
