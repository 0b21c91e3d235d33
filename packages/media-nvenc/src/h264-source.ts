/**
 * Pictures already encoded as H.264 and pushed from this process — a recording played back — for a
 * stream the media plugin serves without encoding: `{ id, source: { h264: source } }`. Its ffmpeg
 * copies them into RTP (to the SFU, so WebRTC viewers get them as from any encoder) and HLS.
 *
 * @example
 * ```ts
 * import { type H264Source, nvencMedia } from '@telekit/media-nvenc';
 * const camera: H264Source = {
 *   width: 640,
 *   height: 480,
 *   fps: 30,
 *   start(push) {
 *     const timer = setInterval(() => push(nextAccessUnit()), 1000 / 30);
 *     return () => clearInterval(timer);
 *   },
 * };
 * nvencMedia({ streams: [{ id: 'replayed-camera', source: { h264: camera } }] });
 * ```
 */
export interface H264Source {
  /** The pictures' size (the SPS's), px. */
  readonly width: number;
  readonly height: number;
  /** Their nominal rate, frames/s (reported in the stream's info; the pace is the pushes'). */
  readonly fps: number;
  /**
   * Starts pushing access units (Annex B, one picture each, SPS and PPS in front of each keyframe)
   * when they are due, a keyframe first; resolves with the function that stops it. Called while
   * someone watches the stream (see `MediaDemand`), and again after each stop. Each picture goes
   * out at the time it is pushed, so the push pace is the viewers' pace.
   */
  start(
    push: (accessUnit: Uint8Array) => void,
  ): Promise<() => void | Promise<void>> | (() => void | Promise<void>);
}
