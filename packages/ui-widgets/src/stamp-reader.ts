import { readStamp, stampLatency, stampRegion } from '@telekit/core/media';

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

/** Where a picture is drawn in its box, px: the video element's place and size, and its clip. */
export interface StampCrop {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Px of the drawn picture's top hidden by the clip (its stamp rows, scaled). */
  clipTop: number;
}

/**
 * Places a picture `picture` big in a `box` as `object-fit: contain` would, but without its top
 * `rows` (the stamp): the picture is scaled so that the rest fits, centred, and drawn whole, shifted
 * up by the rows, which a clip then hides. Undefined when there is nothing to crop (no rows, or
 * sizes not known yet): draw it whole.
 */
export function cropStamp(
  box: { width: number; height: number },
  picture: { width: number; height: number },
  rows: number,
): StampCrop | undefined {
  const { width: vw, height: vh } = picture;
  if (!(rows > 0 && rows < vh && vw > 0 && box.width > 0 && box.height > 0)) return undefined;
  const k = Math.min(box.width / vw, box.height / (vh - rows));
  const clipTop = rows * k;
  const top = (box.height - (vh - rows) * k) / 2;
  return { left: (box.width - vw * k) / 2, top: top - clipTop, width: vw * k, height: vh * k, clipTop };
}
