import type { Observable } from 'rxjs';

/** Pixel layouts a raw frame may have. */
export type PixelFormat = 'rgba' | 'rgb' | 'i420';

/** Bytes per frame for a format and size. */
export function frameByteLength(format: PixelFormat, width: number, height: number): number {
  switch (format) {
    case 'rgba':
      return width * height * 4;
    case 'rgb':
      return width * height * 3;
    case 'i420':
      return width * height + 2 * (Math.ceil(width / 2) * Math.ceil(height / 2));
  }
}

/** One raw video frame. Pixels stay in a byte array; they never pass through JSON. */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  /** Capture (or render) time, ms on the producer's clock. */
  readonly timestamp: number;
  /** Frame number from the source's start. */
  readonly seq: number;
  /** `frameByteLength(format, width, height)` bytes, rows top to bottom, no padding. */
  readonly data: Uint8Array;
}

/** What a source produces. */
export interface MediaSourceInfo {
  readonly width: number;
  readonly height: number;
  /** Nominal frame rate. */
  readonly fps: number;
  readonly format: PixelFormat;
}

/**
 * A source of raw video frames: a simulator's camera, a test pattern, a V4L2 device, a ROS image
 * topic. `frames$` starts the source on its first subscriber and stops it on its last.
 *
 * Implementations prove themselves with `describeMediaSource` from `@telekit/testkit`.
 */
export interface MediaSource {
  readonly name: string;
  readonly info: MediaSourceInfo;
  readonly frames$: Observable<Frame>;
  /**
   * Optional: delivers raw frames (`info.format`, `info.width`×`info.height`, back to back) straight
   * to a sink such as `tcp:127.0.0.1:5000`, without them passing through this process — a simulator
   * sidecar writing its camera into the encoder, say. Resolves with a function that stops it. Media
   * plugins prefer this over `frames$` when a source offers it.
   */
  sendTo?(sink: string): Promise<() => Promise<void>>;
  /** Stops the source and completes `frames$`. Safe to call twice. */
  close(): Promise<void>;
}
