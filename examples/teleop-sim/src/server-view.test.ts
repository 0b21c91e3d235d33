import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTeleopSim, type TeleopSim } from './app.js';
import { launchChromium, until } from './browser.js';

// Server mode's 3D view: the page does not simulate (SIM_MODE=server), so the view draws the scene
// from the description the sidecar publishes (/telemetry/sim_scene) and moves it by
// /telemetry/sim_state — the real robot, not boxes. Orbit and zoom with the mouse; trails and axes.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
let demo: TeleopSim;
let browser: Browser;
let page: Page;

/**
 * Runs in the page: counts the pixels of diff-drive's chassis colour (rgba 0.95 0.55 0.1: orange,
 * hue 15–45°, saturated, lit) in a PNG, and where they are (their centroid, 0–1).
 */
async function chassisPixels(png: string): Promise<{ count: number; x: number; y: number }> {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, width, height).data;
  let count = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      const [r, g, b] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max < 80 || max - min < 0.45 * max || max !== r) continue;
      const hue = (60 * (g - b)) / (max - min);
      if (hue < 15 || hue > 45) continue;
      count++;
      sx += x;
      sy += y;
    }
  return { count, x: count ? sx / count / width : 0, y: count ? sy / count / height : 0 };
}

const chassis = async (name: string) => {
  const shot = await page.locator('telekit-sim-view').screenshot({ path: `${results}${name}.png` });
  return page.evaluate(chassisPixels, shot.toString('base64'));
};
const view = <T>(f: (v: HTMLElement & Record<string, unknown>) => T) =>
  page.locator('telekit-sim-view').evaluate(f as (v: HTMLElement) => T);

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  demo = await startTeleopSim({ port: 0, logger: silentLogger, simMode: 'server' });
  browser = await launchChromium({ webgl: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

describe('teleop-sim in server mode: the 3D view', { timeout: 90_000 }, () => {
  it('draws the robot from the scene description the sidecar publishes, moved by sim_state', async () => {
    await page.goto(demo.operatorUrl);
    await until(page, (s) => s.sim.mode.mode === 'server', 60_000, 'server mode');
    await expect.poll(() => view((v) => v.drawing), { timeout: 30_000 }).toBe('description');
    // diff-drive's three bodies, and the frame rate in the overlay.
    await expect
      .poll(() => page.locator('telekit-sim-view [data-field="bodies"]').textContent())
      .toBe('3 bodies');
    await expect
      .poll(() => page.locator('telekit-sim-view [data-field="fps"]').textContent(), { timeout: 20_000 })
      .toMatch(/\d+ fps · \w|paused/);
    // The orange chassis, in the middle of the view (the camera follows the base).
    const seen = await chassis('teleop-sim-server-3d-view');
    expect(seen.count).toBeGreaterThan(500);
    expect(Math.abs(seen.x - 0.5)).toBeLessThan(0.25);
    expect(Math.abs(seen.y - 0.5)).toBeLessThan(0.25);
  });

  it('orbits and zooms with mouse and touch around the followed base; a double click goes back', async () => {
    const before = (await view((v) => v.cameraPose)) as { position: number[]; target: number[] };
    const canvas = page.locator('telekit-sim-view canvas');
    const box = (await canvas.boundingBox())!;
    // Off centre: a view the machine's load paused has its button in the middle (orbit works paused too).
    const [cx, cy] = [box.x + box.width * 0.25, box.y + box.height * 0.3];
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 150, cy, { steps: 8 });
    await page.mouse.up();
    await page.mouse.wheel(0, -400);
    const after = (await view((v) => v.cameraPose)) as { position: number[]; target: number[] };
    const distance = (p: { position: number[]; target: number[] }) =>
      Math.hypot(...p.position.map((x, k) => x - p.target[k]!));
    // Turned about the base (its bearing changed), closer, still looking at the base.
    const bearing = (p: { position: number[]; target: number[] }) =>
      Math.atan2(p.position[1]! - p.target[1]!, p.position[0]! - p.target[0]!);
    expect(Math.abs(bearing(after) - bearing(before))).toBeGreaterThan(0.3);
    expect(distance(after)).toBeLessThan(distance(before));
    expect(after.target.map((x) => x.toFixed(2))).toEqual(before.target.map((x) => x.toFixed(2)));
    await chassis('teleop-sim-server-3d-view-orbited');
    await canvas.dblclick({ position: { x: box.width * 0.25, y: box.height * 0.3 } });
    await expect
      .poll(async () =>
        distance((await view((v) => v.cameraPose)) as { position: number[]; target: number[] }),
      )
      .toBeCloseTo(distance(before), 2);

    // By touch: one finger orbits, two fingers pinching apart zoom in.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', points: [number, number][]) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: points.map(([x, y], id) => ({ x, y, id })),
      });
    const reset = (await view((v) => v.cameraPose)) as { position: number[]; target: number[] };
    await touch('touchStart', [[cx, cy]]);
    for (let i = 1; i <= 8; i++) await touch('touchMove', [[cx + 20 * i, cy]]);
    await touch('touchEnd', []);
    const turned = (await view((v) => v.cameraPose)) as { position: number[]; target: number[] };
    expect(Math.abs(bearing(turned) - bearing(reset))).toBeGreaterThan(0.3);
    await touch('touchStart', [
      [cx - 20, cy],
      [cx + 20, cy],
    ]);
    for (let i = 1; i <= 8; i++)
      await touch('touchMove', [
        [cx - 20 - 15 * i, cy],
        [cx + 20 + 15 * i, cy],
      ]);
    await touch('touchEnd', []);
    const pinched = (await view((v) => v.cameraPose)) as { position: number[]; target: number[] };
    expect(distance(pinched)).toBeLessThan(0.8 * distance(turned));
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
    await cdp.detach();
    await canvas.dblclick({ position: { x: box.width * 0.25, y: box.height * 0.3 } });
  });

  it("follows the base as it drives (moved smoothly from sim_state), with its trail and the bodies' frames", async () => {
    await view((v) => v.setAttribute('trails', ''));
    await page.getByRole('button', { name: 'Request control' }).click();
    await until(page, (s) => s.holdsControl, 10_000, 'the lease');
    const start = (await until(page, (s) => s.pose !== undefined, 10_000, 'pose')).pose!;
    await page.keyboard.down('w');
    await until(page, (s) => Math.hypot(s.pose!.x - start.x, s.pose!.y - start.y) > 0.5, 20_000, 'the drive');
    await page.keyboard.up('w');
    // Where the server has the base now, the view's camera looks (it follows), within a sample or two.
    await expect
      .poll(
        async () => {
          const [pose, camera] = [
            (await until(page, (s) => s.pose !== undefined)).pose!,
            (await view((v) => v.cameraPose)) as { target: number[] },
          ];
          return Math.hypot(camera.target[0]! - pose.x, camera.target[1]! - pose.y);
        },
        { timeout: 10_000 },
      )
      .toBeLessThan(0.05);
    const seen = await chassis('teleop-sim-server-3d-view-driven');
    expect(seen.count).toBeGreaterThan(500);
    expect(Math.abs(seen.x - 0.5)).toBeLessThan(0.25);
    // The bodies' frames: pure blue z axes, drawn over the robot (nothing else in the scene is).
    const blue = (png: string) =>
      page.evaluate(async (data) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
        context.drawImage(bitmap, 0, 0);
        const px = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4)
          if (px[i + 2]! - px[i]! > 150 && px[i + 2]! - px[i + 1]! > 150) n++;
        return n;
      }, png);
    const shot = async () => (await page.locator('telekit-sim-view').screenshot()).toString('base64');
    expect(await blue(await shot())).toBeLessThan(5);
    await view((v) => v.setAttribute('axes', ''));
    // (A view the machine's load paused draws again with its button: pressed while waiting.)
    const drawAnyway = page.getByRole('button', { name: 'Draw anyway' });
    await expect
      .poll(
        async () => {
          if (await drawAnyway.isVisible()) await drawAnyway.click();
          return blue(await shot());
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(10);
    await page
      .locator('telekit-sim-view')
      .screenshot({ path: `${results}teleop-sim-server-3d-view-axes.png` });
  });
});
