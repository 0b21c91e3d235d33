import { TelekitError, token } from '@telekit/core';
import { BehaviorSubject, distinctUntilChanged, map, type Observable } from 'rxjs';

/** Stops wanting a stream. Calling it again does nothing. */
export type Release = () => void;

/**
 * How much a stream is wanted: `off` (nobody holds it: encoder and source stopped), `standby`
 * (someone is about to watch — a WebRTC viewer setting up: the encoder starts, the source waits),
 * `on` (someone watches: both run).
 */
export type DemandLevel = 'off' | 'standby' | 'on';

/**
 * Who wants which stream. A stream's encoder runs while anyone holds it, its source (a simulator's
 * camera renders only then) while anyone holds it fully, and both stop `lingerMs` after the last
 * holder let go.
 *
 * The media plugin's own consumers hold streams through it — a WebRTC viewer from `/media/join`
 * until its consumer closes, an HLS client while it keeps fetching — and so can any other plugin
 * that needs the pictures (a recorder, a Foxglove bridge): resolve {@link MediaDemandToken}, acquire
 * when you start consuming, release when you stop.
 *
 * @example
 * ```ts
 * import { MediaDemandToken } from '@telekit/media-nvenc';
 * const demand = ctx.resolve(MediaDemandToken); // in a plugin that requires it
 * const release = demand.acquire('sim-camera', 'recorder');
 * // … the encoder runs; record from it …
 * release(); // the encoder stops lingerMs later unless someone else holds the stream
 * ```
 */
export interface MediaDemand {
  /**
   * Holds `stream` for `who` (a name for logs and health, e.g. `webrtc:<client>`, `hls`,
   * `recorder`) until the returned function is called: its encoder and source run. The same `who`
   * may hold a stream more than once; each hold is released on its own. Throws
   * `E_MEDIA_SIGNALLING` for an unknown stream.
   */
  acquire(stream: string, who: string): Release;
  /**
   * Holds `stream` on standby: its encoder starts (ffmpeg takes a moment to start), its source
   * waits for a full hold. A WebRTC viewer is on standby from its join until its consumer is
   * resumed, so the encoder's first frame — a keyframe — comes after the viewer is ready for it.
   */
  standby(stream: string, who: string): Release;
  /** Who holds `stream` now (one entry per hold, on standby or not). */
  holders(stream: string): readonly string[];
  /**
   * How much `stream` is wanted: up at once with a hold, down `lingerMs` after the last hold of
   * the level went (a new hold within that time keeps it up). Emits the current value first.
   */
  level$(stream: string): Observable<DemandLevel>;
  /** Whether `stream` should run (its encoder at least): any level but `off`. */
  wanted$(stream: string): Observable<boolean>;
  /** Whether `stream` should run now. */
  wanted(stream: string): boolean;
}

/**
 * The media plugin's {@link MediaDemand}, for plugins that consume its streams. Keyed by its name
 * (`Symbol.for`), so two copies of this package agree.
 */
export const MediaDemandToken = token<MediaDemand>('@telekit/media-nvenc/MediaDemand');

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
