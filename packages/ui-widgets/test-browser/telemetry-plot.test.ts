// <telekit-telemetry-plot> in Chromium: samples pushed on its topic are drawn (the series' colours on
// the canvas, the axes in the text colour), the legend shows the latest values, and a topic that is
// not telemetry is refused with a message.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

/** Pixels of the plot's canvas near `rgb` (±40 a channel), in the band of rows `from`…`to` (0…1). */
const pixelsNear = (page: Page, rgb: [number, number, number], band: [number, number] = [0, 1]) =>
  page.locator('telekit-telemetry-plot canvas').evaluate(
    (c, [rgb, band]) => {
      const canvas = c as HTMLCanvasElement;
      const g = canvas.getContext('2d')!;
      const top = Math.floor(canvas.height * band[0]);
      const rows = Math.max(1, Math.floor(canvas.height * band[1]) - top);
      const data = g.getImageData(0, top, canvas.width, rows).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          data[i + 3]! > 128 &&
          Math.abs(data[i]! - rgb[0]) < 40 &&
          Math.abs(data[i + 1]! - rgb[1]) < 40 &&
          Math.abs(data[i + 2]! - rgb[2]) < 40
        )
          n++;
      return n;
    },
    [rgb, band] as const,
  );

describeInChromium('<telekit-telemetry-plot>', ({ page }) => {
  it('draws the samples of its fields and shows the latest values', async () => {
    await page().evaluate(() =>
      window.harness.mount('telekit-telemetry-plot', { fields: 'position.x, position.y', window: '5' }),
    );
    const plot = page().locator('telekit-telemetry-plot [role="img"]');
    expect(await plot.getAttribute('aria-label')).toBe('plot of position.x, position.y over the last 5 s');
    expect(await page().locator('telekit-telemetry-plot [data-field="position.x"]').textContent()).toBe(
      'position.x —',
    );
    // Blank before any sample: no series colour on the canvas.
    await expect.poll(() => page().locator('telekit-telemetry-plot canvas').count()).toBe(1);
    expect(await pixelsNear(page(), [0x3d, 0x7f, 0xe0])).toBe(0);

    await page().evaluate(() => {
      const start = Date.now() - 4_000;
      for (let i = 0; i <= 40; i++)
        window.harness.client.push('/telemetry/pose', {
          header: { stamp: start + i * 100, seq: i, frame: 'map' },
          position: { x: Math.sin(i / 6), y: i / 40, z: 0 },
          orientation: { x: 0, y: 0, z: 0, w: 1 },
        });
    });
    await expect
      .poll(() => page().locator('telekit-telemetry-plot [data-field="position.x"]').textContent())
      .toBe(`position.x ${Math.sin(40 / 6).toFixed(3)}`);
    expect(await page().locator('telekit-telemetry-plot [data-field="position.y"]').textContent()).toBe(
      'position.y 1.000',
    );
    // Both series drawn (uPlot draws on the next frame), each in its colour…
    await expect.poll(() => pixelsNear(page(), [0x3d, 0x7f, 0xe0])).toBeGreaterThan(50);
    await expect.poll(() => pixelsNear(page(), [0xc2, 0x71, 0x1c])).toBeGreaterThan(50);
    // …and the x axis's time labels along the bottom, in the theme's text colour.
    const text = await page()
      .locator('telekit-telemetry-plot')
      .evaluate((el) => getComputedStyle(el).color.match(/\d+/g)!.slice(0, 3).map(Number));
    expect(await pixelsNear(page(), text as [number, number, number], [0.8, 1])).toBeGreaterThan(20);
    const samples = await page().evaluate(() =>
      window.harness.events.filter((e) => e.type === 'telekit-sample'),
    );
    expect(samples).toHaveLength(41);
  });

  it('a topic that is not telemetry gets a message naming it', async () => {
    await page().evaluate(() =>
      window.harness.mount('telekit-telemetry-plot', { topic: '/controller/twist' }),
    );
    await expect
      .poll(() => page().getByRole('alert').textContent())
      .toBe('topic: expected a telemetry topic such as /telemetry/pose, got /controller/twist');
  });
});
