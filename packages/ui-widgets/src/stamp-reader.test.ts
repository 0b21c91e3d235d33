import { stampFrame, stampRegion } from '@telekit/core/media';
import { describe, expect, it } from 'vitest';
import { cropStamp } from './stamp-reader.js';

describe('cropStamp', () => {
  it('hides exactly the stamp rows and shows the rest of the picture whole, centred, at one scale', () => {
    // 640×480 in a 4:3 box of 800×600, 20 rows cropped: the remaining 640×460 fits at 1.25.
    const c = cropStamp({ width: 800, height: 600 }, { width: 640, height: 480 }, 20)!;
    expect(c.width / 640).toBeCloseTo(1.25);
    expect(c.height / 480).toBeCloseTo(1.25);
    expect(c.clipTop).toBeCloseTo(25);
    // What shows: from top + clipTop to the bottom, inside the box and centred in it.
    const shownTop = c.top + c.clipTop;
    const shownBottom = c.top + c.height;
    expect(shownTop).toBeGreaterThanOrEqual(0);
    expect(shownBottom).toBeLessThanOrEqual(600);
    expect(shownTop).toBeCloseTo(600 - shownBottom);
    expect(c.left).toBeCloseTo(0);
  });

  it('a tall box: the picture takes the width; a wide box: the height without the rows', () => {
    const tall = cropStamp({ width: 400, height: 900 }, { width: 640, height: 480 }, 20)!;
    expect(tall.width).toBeCloseTo(400);
    const wide = cropStamp({ width: 1600, height: 460 }, { width: 640, height: 480 }, 20)!;
    expect(wide.height - wide.clipTop).toBeCloseTo(460);
    expect(wide.left).toBeCloseTo((1600 - wide.width) / 2);
  });

  it('nothing to crop: no rows, or sizes not known yet', () => {
    expect(cropStamp({ width: 800, height: 600 }, { width: 640, height: 480 }, 0)).toBeUndefined();
    expect(cropStamp({ width: 800, height: 600 }, { width: 0, height: 0 }, 20)).toBeUndefined();
    expect(cropStamp({ width: 0, height: 0 }, { width: 640, height: 480 }, 20)).toBeUndefined();
  });

  it("the viewer's margin covers the rows the source stamps", () => {
    for (const width of [320, 640, 1280, 1920]) {
      const picture = new Uint8ClampedArray(width * 64 * 4);
      stampFrame(picture, width, 64, 123_456);
      // The last stamped row, and what the viewer crops (its #stampRows).
      let last = -1;
      for (let y = 0; y < 64; y++) if (picture[(y * width + 1) * 4 + 3] === 255) last = y;
      expect(last + 1).toBe(stampRegion(width).height);
      expect(Math.ceil(stampRegion(width).height * 1.25)).toBeGreaterThan(last + 1);
    }
  });
});
