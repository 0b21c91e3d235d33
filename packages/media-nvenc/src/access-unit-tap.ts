import { TelekitError, type Token, token } from '@telekit/core';
import type { MediaDemand } from '@telekit/core/contracts';
import type { types } from 'mediasoup';
import { filter, Observable, share } from 'rxjs';
import { type AccessUnit, H264Depacketizer } from './h264-depacketizer.js';
import type { Sfu } from './sfu.js';

export type { AccessUnit } from './h264-depacketizer.js';

/**
 * A stream's encoded pictures inside the server, for what records or relays them (a Foxglove
 * endpoint, a session recorder): the same H.264 the WebRTC viewers get, from the same encoder — never
 * a second encode.
 */
export interface AccessUnitTap {
  /** The streams that can be tapped, with their picture size. */
  streams(): readonly { id: string; width: number; height: number; fps: number }[];
  /**
   * The access units of `stream` (Annex B, one picture each), starting with a keyframe. Subscribing
   * holds the stream for `who` (its encoder starts if it was idle, see `MediaDemand`); the first
   * subscriber of a stream opens one mediasoup consumer that every later one shares; the last to
   * unsubscribe closes it and lets go of the stream. A subscriber joining a running stream waits
   * for the next keyframe: at most one GOP (the encoders put a keyframe at least every second).
   * Errors with `E_MEDIA_SIGNALLING` for an unknown stream.
   */
  accessUnits$(stream: string, who: string): Observable<AccessUnit>;
}

/**
 * The media plugin's {@link AccessUnitTap}, for plugins that `require` (or `optional`) it.
 * Plugins that cannot import this package may name the same token by its key,
 * `token<AccessUnitTap>('@telekit/media-nvenc/AccessUnitTap')`: tokens are `Symbol.for` keys.
 */
export const AccessUnitTapToken: Token<AccessUnitTap> = token<AccessUnitTap>(
  '@telekit/media-nvenc/AccessUnitTap',
);

/** Options of {@link createAccessUnitTap}. */
export interface AccessUnitTapOptions {
  sfu: Sfu;
  demand: MediaDemand;
  streams: readonly { id: string; width: number; height: number; fps: number }[];
}

/**
 * Taps the SFU: per stream, while anyone subscribes, a DirectTransport consumer of the stream's
 * producer hands the RTP packets mediasoup forwards to this process (no socket, no extra port), and
 * an {@link H264Depacketizer} turns them back into access units.
 *
 * Why a consumer and not a tee of ffmpeg's output: the packets are the ones every WebRTC viewer
 * gets (one encode, one path), the tap starts and stops with demand without restarting the
 * encoder, and it survives encoder restarts the way viewers do (the producer is paused and resumed,
 * and the depacketizer waits for the new encoder's first keyframe).
 *
 * @example
 * ```ts
 * import { AccessUnitTapToken } from '@telekit/media-nvenc';
 * const tap = ctx.resolve(AccessUnitTapToken); // in a plugin that requires it
 * const sub = tap.accessUnits$('cam', 'my-recorder').subscribe((au) => file.write(au.data));
 * ```
 */
export function createAccessUnitTap(options: AccessUnitTapOptions): AccessUnitTap & { close(): void } {
  const shared = new Map<string, Observable<AccessUnit>>();
  const open = new Set<types.DirectTransport>();
  const feed = (stream: string): Observable<AccessUnit> =>
    new Observable<AccessUnit>((subscriber) => {
      const s = options.sfu.stream(stream);
      if (!s) {
        subscriber.error(
          new TelekitError('E_MEDIA_SIGNALLING', 'unknown stream', {
            context: { stream: stream.slice(0, 64) },
          }),
        );
        return;
      }
      let transport: types.DirectTransport | undefined;
      let closed = false;
      const depacketizer = new H264Depacketizer(stream);
      void (async () => {
        const t = await options.sfu.router.createDirectTransport();
        if (closed) return t.close();
        transport = t;
        open.add(t);
        t.observer.once('close', () => open.delete(t));
        const consumer = await t.consume({
          producerId: s.producer.id,
          rtpCapabilities: options.sfu.rtpCapabilities,
        });
        consumer.on('rtp', (packet: Buffer) => {
          for (const au of depacketizer.push(packet)) subscriber.next(au);
        });
        consumer.observer.once('close', () => {
          if (!closed) subscriber.complete();
        });
        // An encoder that listens for keyframe requests sends one now; ffmpeg's RTP output does not,
        // and its GOP bounds the wait.
        await consumer.requestKeyFrame().catch(() => undefined);
      })().catch((error: unknown) => {
        if (!closed)
          subscriber.error(
            new TelekitError('E_MEDIA_SIGNALLING', 'could not tap the stream', {
              cause: error,
              context: { stream },
            }),
          );
      });
      return () => {
        closed = true;
        transport?.close();
      };
    });
  return {
    streams: () => options.streams,
    accessUnits$(stream, who) {
      return new Observable<AccessUnit>((subscriber) => {
        const release = (() => {
          try {
            return options.demand.acquire(stream, who);
          } catch (error) {
            subscriber.error(error);
            return undefined;
          }
        })();
        if (!release) return;
        let units = shared.get(stream);
        if (!units) {
          units = feed(stream).pipe(share());
          shared.set(stream, units);
        }
        let started = false;
        const sub = units.pipe(filter((au) => (started ||= au.keyframe))).subscribe(subscriber);
        return () => {
          sub.unsubscribe();
          release();
        };
      });
    },
    close() {
      for (const t of open) t.close();
      shared.clear();
    },
  };
}
