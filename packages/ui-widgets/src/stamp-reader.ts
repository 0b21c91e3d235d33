import { readStamp, stampLatency, stampRegion } from '@telekit/core';

/**
 * Reads the glass-to-glass stamp (`stampFrame` in `@telekit/core`) of each frame a `<video>`
 * presents: copies only the stamp's corner out of the decoded picture and returns the source →
 * display latency in ms. Call it from `requestVideoFrameCallback`.
 */
export class StampReader {
  readonly #canvas = document.createElement('canvas');
  readonly #g = this.#canvas.getContext('2d', { willReadFrequently: true });

  /**
   * The latency of the frame being presented, or undefined when it carries no stamp. `offsetMs` is
   * the source's clock minus this page's (the gateway client's estimate), 0 on one machine.
   */
  latency(
    video: HTMLVideoElement,
    now: number,
    meta: VideoFrameCallbackMetadata,
    offsetMs = 0,
  ): number | undefined {
    const g = this.#g;
    if (!g) return undefined;
    const region = stampRegion(meta.width);
    this.#canvas.width = region.width;
    this.#canvas.height = region.height;
    g.drawImage(video, 0, 0, region.width, region.height, 0, 0, region.width, region.height);
    const pixels = g.getImageData(0, 0, region.width, region.height).data;
    const stamp = readStamp(pixels, region.width, region.height, meta.width);
    if (stamp === undefined) return undefined;
    return stampLatency(stamp, performance.timeOrigin + (meta.expectedDisplayTime ?? now) + offsetMs);
  }
}
