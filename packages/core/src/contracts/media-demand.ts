import type { Observable } from 'rxjs';

/** Stops wanting a stream. Calling it again does nothing. */
export type Release = () => void;

/**
 * How much a stream is wanted: `off` (nobody holds it: encoder and source stopped), `standby`
 * (someone is about to watch — a WebRTC viewer setting up: the encoder starts, the source waits),
 * `on` (someone watches: both run).
 */
export type DemandLevel = 'off' | 'standby' | 'on';

/**
 * Who wants which video stream. A stream's encoder runs while anyone holds it, its source (a
 * simulator's camera renders only then) while anyone holds it fully, and both stop a little while
 * after the last holder let go: video costs nothing while nobody watches.
 *
 * The media plugin provides it (`MediaDemandToken`) and its own consumers hold streams through it —
 * a WebRTC viewer from its join until its consumer closes, an HLS client while it keeps fetching —
 * and so does any other plugin that needs the pictures (a recorder, a Foxglove endpoint): acquire
 * when you start consuming, release when you stop.
 *
 * @example
 * ```ts
 * import { MediaDemandToken } from '@telekit/core';
 * const demand = ctx.resolve(MediaDemandToken); // in a plugin that requires it
 * const release = demand.acquire('sim-camera', 'recorder');
 * // … the encoder runs; record from it …
 * release(); // the encoder stops a little later unless someone else holds the stream
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
   * Holds `stream` on standby: its encoder starts (an encoder takes a moment to start), its source
   * waits for a full hold.
   */
  standby(stream: string, who: string): Release;
  /** Who holds `stream` now (one entry per hold, on standby or not). */
  holders(stream: string): readonly string[];
  /**
   * How much `stream` is wanted: up at once with a hold, down a while after the last hold of the
   * level went (a new hold within that time keeps it up). Emits the current value first.
   */
  level$(stream: string): Observable<DemandLevel>;
  /** Whether `stream` should run (its encoder at least): any level but `off`. */
  wanted$(stream: string): Observable<boolean>;
  /** Whether `stream` should run now. */
  wanted(stream: string): boolean;
}
