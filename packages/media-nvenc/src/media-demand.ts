import { TelekitError, token } from '@telekit/core';
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';

/** Stops wanting a stream. Calling it again does nothing. */
export type Release = () => void;

/**
 * Who wants which stream. A stream's encoder (and its source: a simulator's camera renders only
 * while it is on) runs while anyone holds it, and stops `lingerMs` after the last holder let go.
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
   * `recorder`) until the returned function is called. The same `who` may hold a stream more than
   * once; each hold is released on its own. Throws `E_MEDIA_SIGNALLING` for an unknown stream.
   */
  acquire(stream: string, who: string): Release;
  /** Who holds `stream` now (one entry per hold). */
  holders(stream: string): readonly string[];
  /**
   * Whether `stream` should run: true from the first hold, false `lingerMs` after the last release
   * (a new hold within that time keeps it running). Emits the current value first, then changes.
   */
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
        holders: [] as string[],
        wanted: new BehaviorSubject(false),
        linger: undefined as ReturnType<typeof setTimeout> | undefined,
      },
    ]),
  );
  const entry = (stream: string) => {
    const e = streams.get(stream);
    if (!e)
      throw new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', {
        context: { stream: String(stream).slice(0, 64) },
      });
    return e;
  };
  return {
    acquire(stream, who) {
      const e = entry(stream);
      e.holders.push(who);
      clearTimeout(e.linger);
      e.linger = undefined;
      if (!e.wanted.value) e.wanted.next(true);
      options.onChange?.(stream, e.holders);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const i = e.holders.indexOf(who);
        if (i >= 0) e.holders.splice(i, 1);
        options.onChange?.(stream, e.holders);
        if (e.holders.length > 0 || e.wanted.isStopped) return;
        clearTimeout(e.linger);
        e.linger = setTimeout(() => {
          e.linger = undefined;
          if (e.holders.length === 0) e.wanted.next(false);
        }, lingerMs);
        e.linger.unref?.();
      };
    },
    holders: (stream) => [...entry(stream).holders],
    wanted$: (stream) => entry(stream).wanted.pipe(distinctUntilChanged()),
    wanted: (stream) => entry(stream).wanted.value,
    close() {
      for (const e of streams.values()) {
        clearTimeout(e.linger);
        e.wanted.complete();
      }
    },
  };
}
