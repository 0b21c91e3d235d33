/**
 * Glass-to-glass stamps: the source writes its capture time into the picture itself, as a strip of
 * black and white blocks in the top-left corner, and the viewer reads it back from the decoded frame
 * when it is presented. The stamp survives any encoder, SFU or player because it is pixels, not
 * metadata.
 *
 * Layout: two sync blocks (white, black), then {@link STAMP_BITS} bits of the capture time in ms
 * (most significant first, white = 1). The time wraps every 2^24 ms (4.6 h); {@link stampLatency}
 * undoes the wrap.
 *
 * @module
 */

/** Bits of the timestamp carried (the low bits of ms since the epoch). */
export const STAMP_BITS = 24;
const BLOCKS = STAMP_BITS + 2;
const MODULO = 2 ** STAMP_BITS;

/** Side of one block in pixels for a frame `width` wide: as large as fits, between 4 and 16. */
export function stampBlockSize(width: number): number {
  return Math.max(4, Math.min(16, Math.floor(width / (BLOCKS + 2))));
}

/**
 * Writes `timeMs` into an RGBA picture (in place). Frames narrower than 4 px per block, or shorter
 * than one block, are left alone.
 */
export function stampFrame(
  data: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  timeMs: number,
): void {
  const size = stampBlockSize(width);
  if (size * BLOCKS > width || size > height) return;
  const value = Math.floor(timeMs) % MODULO;
  for (let block = 0; block < BLOCKS; block++) {
    const on = block === 0 ? true : block === 1 ? false : ((value >>> (BLOCKS - 1 - block)) & 1) === 1;
    const level = on ? 255 : 0;
    for (let y = 0; y < size; y++) {
      let i = (y * width + block * size) * 4;
      for (let x = 0; x < size; x++, i += 4) {
        data[i] = level;
        data[i + 1] = level;
        data[i + 2] = level;
        data[i + 3] = 255;
      }
    }
  }
}

/**
 * Reads a stamp from RGBA pixels `width` wide and `height` high: the whole decoded picture, or just
 * its top-left corner (see {@link stampRegion}), in which case `pictureWidth` is the whole picture's
 * width. Returns the stamped time modulo 2^24 ms, or `undefined` when the sync blocks are not there
 * (an unstamped source).
 */
export function readStamp(
  data: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  pictureWidth = width,
): number | undefined {
  const size = stampBlockSize(pictureWidth);
  if (size * BLOCKS > width || size > height) return undefined;
  const luma = (block: number) => {
    // The centre of the block: codecs smear the edges.
    const i = (Math.floor(size / 2) * width + block * size + Math.floor(size / 2)) * 4;
    return ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) / 3;
  };
  const white = luma(0);
  const black = luma(1);
  if (white - black < 96) return undefined;
  const threshold = (white + black) / 2;
  let value = 0;
  for (let block = 2; block < BLOCKS; block++) value = value * 2 + (luma(block) > threshold ? 1 : 0);
  return value;
}

/**
 * Ms from a stamped time (as {@link readStamp} returned it) to `nowMs`, undoing the 2^24 wrap.
 * Slightly negative when the viewer's clock is behind the source's (two processes' clocks agree
 * only to a few ms; across machines, add the gateway's clock-offset estimate to `nowMs`).
 */
export function stampLatency(stamp: number, nowMs: number): number {
  const d = (((Math.floor(nowMs) - stamp) % MODULO) + MODULO) % MODULO;
  return d > MODULO / 2 ? d - MODULO : d;
}

/** The pixel region holding the stamp, for a viewer that copies only that much from the GPU. */
export function stampRegion(width: number): { width: number; height: number } {
  const size = stampBlockSize(width);
  return { width: size * BLOCKS, height: size };
}
