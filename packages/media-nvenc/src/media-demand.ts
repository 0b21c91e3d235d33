import { TelekitError } from '@telekit/core';
import type { DemandLevel, MediaDemand, Release } from '@telekit/core/contracts';
import { BehaviorSubject, distinctUntilChanged, map } from 'rxjs';

/** The media plugin's `MediaDemand` (core's token: `@telekit/core/MediaDemand`), re-exported here. */
export { MediaDemandToken } from '@telekit/core';
export type { DemandLevel, MediaDemand, Release } from '@telekit/core/contracts';

/** Options of {@link createMediaDemand}. */
export interface MediaDemandOptions {
  /** The streams that may be held. */
  streams: readonly string[];
  /**
   * How long a stream keeps running after its last holder let go, ms, so a viewer who reloads the
   * page, or flips from one stream to another and back, finds it still running. Default 5 000.
   */
  lingerMs?: number;
  /** Told each hold and release (for logs). */
  onChange?: (stream: string, holders: readonly string[]) => void;
}

const RANK: Record<DemandLevel, number> = { off: 0, standby: 1, on: 2 };

/** Makes the reference-counted {@link MediaDemand} the media plugin provides. */
export function createMediaDemand(options: MediaDemandOptions): MediaDemand & { close(): void } {
  const lingerMs = options.lingerMs ?? 5_000;
  if (!(lingerMs >= 0))
    throw new TelekitError('E_CONFIG', 'lingerMs must be a number of ms, 0 or more', {
      context: { field: 'lingerMs', value: lingerMs },
    });
  const streams = new Map(
    options.streams.map((id) => [
      id,
      {
        holds: [] as { who: string; full: boolean }[],
        level: new BehaviorSubject<DemandLevel>('off'),
        linger: undefined as ReturnType<typeof setTimeout> | undefined,
      },
    ]),
  );
  type Entry = NonNullable<ReturnType<typeof streams.get>>;
  const entry = (stream: string): Entry => {
    const e = streams.get(stream);
    if (!e)
      throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', {
        context: { stream: String(stream).slice(0, 64) },
      });
    return e;
  };
  const held = (e: Entry): DemandLevel =>
    e.holds.some((h) => h.full) ? 'on' : e.holds.length > 0 ? 'standby' : 'off';
  /** Up at once; down after the linger, to what is held then. */
  const settle = (e: Entry) => {
    if (e.level.isStopped) return;
    const target = held(e);
    if (RANK[target] >= RANK[e.level.value]) {
      clearTimeout(e.linger);
      e.linger = undefined;
      if (target !== e.level.value) e.level.next(target);
      return;
    }
    if (e.linger) return;
    e.linger = setTimeout(() => {
      e.linger = undefined;
      const now = held(e);
      if (now !== e.level.value && !e.level.isStopped) e.level.next(now);
    }, lingerMs);
    e.linger.unref?.();
  };
  const hold = (stream: string, who: string, full: boolean): Release => {
    const e = entry(stream);
    const h = { who, full };
    e.holds.push(h);
    options.onChange?.(
      stream,
      e.holds.map((x) => x.who),
    );
    settle(e);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = e.holds.indexOf(h);
      if (i >= 0) e.holds.splice(i, 1);
      options.onChange?.(
        stream,
        e.holds.map((x) => x.who),
      );
      settle(e);
    };
  };
  return {
    acquire: (stream, who) => hold(stream, who, true),
    standby: (stream, who) => hold(stream, who, false),
    holders: (stream) => entry(stream).holds.map((h) => h.who),
    level$: (stream) => entry(stream).level.pipe(distinctUntilChanged()),
    wanted$: (stream) =>
      entry(stream).level.pipe(
        map((l) => l !== 'off'),
        distinctUntilChanged(),
      ),
    wanted: (stream) => entry(stream).level.value !== 'off',
    close() {
      for (const e of streams.values()) {
        clearTimeout(e.linger);
        e.level.complete();
      }
    },
  };
}
