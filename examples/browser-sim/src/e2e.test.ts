import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger, Topics } from '@telekit/core';
import { launchChromium } from '@telekit/testkit/browser';
import type { Browser, Page } from 'playwright-core';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSim, startBrowserSim } from './app.js';

// The browser simulator end to end: the sidecar as authority, MuJoCo WebAssembly in Debian's
// Chromium, and the fall back to server mode. Screenshots go to test-results/.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
let demo: BrowserSim;
let browser: Browser;

interface PageSnapshot {
  mode: { mode: string; reason: string };
  divergence?: { time: number; max: number; mean: number; correction: string; worst: string };
  corrections: { none: number; smooth: number; snap: number };
  autopilot?: { goal: { x: number; y: number }; state: string };
  local?: { time: number; base?: { x: number; y: number; z: number } };
  video?: { frames: number; state: string; mode: string };
  holdsControl: boolean;
}
const snapshot = (page: Page) =>
  page.evaluate(() => (window as unknown as { telekit?: { snapshot(): PageSnapshot } }).telekit?.snapshot());

async function until(page: Page, test: (s: PageSnapshot) => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: PageSnapshot | undefined;
  while (Date.now() < deadline) {
    last = await snapshot(page);
    if (last && test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; page: ${JSON.stringify(last)}`);
}

/**
 * Runs in the page: counts the pixels of the diff-drive robot's chassis colour (rgba 0.95 0.55 0.1,
 * orange: hue 15–45°, saturated, lit) in a PNG, all over and in the middle half of the picture.
 */
async function chassisPixels(
  png: string,
): Promise<{ all: number; middle: number; width: number; height: number }> {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, width, height).data;
  let all = 0;
  let middle = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      const [r, g, b] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max < 80 || max - min < 0.45 * max || max !== r) continue;
      const hue = (60 * (g - b)) / (max - min);
      if (hue < 15 || hue > 45) continue;
      all++;
      if (Math.abs(x - width / 2) < width / 4 && Math.abs(y - height / 2) < height / 4) middle++;
    }
  return { all, middle, width, height };
}

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  demo = await startBrowserSim({ port: 0, logger: silentLogger });
  browser = await launchChromium({ webgl: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

describe('browser-sim in Chromium', { timeout: 180_000 }, () => {
  it('simulates in the page, drives locally, and stays within tolerance of the server after snapshots', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      // Browser mode asked for: under `auto` a loaded machine rightly falls back to the server when
      // the page cannot keep real time (sim-browser's own tests), which is not what this test is about.
      await page.goto(`${demo.operatorUrl}&sim=browser`);
      const started = await until(page, (s) => s.mode.mode !== 'starting', 'a mode');
      expect(started.mode.mode, started.mode.reason).toBe('browser');
      await expect.poll(() => page.locator('#mode b').textContent()).toBe('browser simulation');
      await page.evaluate(() =>
        (
          window as unknown as { telekit: { client: { requestControl(): Promise<unknown> } } }
        ).telekit.client.requestControl(),
      );
      const start = (await until(page, (s) => s.local?.base !== undefined, 'local state')).local!.base!;
      // The server's own robot, as its simulator publishes it.
      const serverX: number[] = [];
      const serverPose = demo.app.transport
        .subscribe(Topics.pose)
        .subscribe((p) => serverX.push(p.position.x));
      await page.keyboard.down('w');
      await page.waitForTimeout(2_000);
      // While driving: the local robot moved, and snapshots keep it close to the server's.
      const driving = await until(
        page,
        (s) => (s.local?.base?.x ?? 0) > start.x + 0.3,
        'the local robot to move',
      );
      await page.keyboard.up('w');
      expect(driving.divergence).toBeDefined();
      // At rest both agree: after the next snapshots the divergence is below tolerance.
      const settled = await until(
        page,
        (s) =>
          s.divergence !== undefined &&
          s.divergence.time > (driving.divergence?.time ?? 0) + 1 &&
          s.divergence.max < 0.01,
        'divergence below 1 cm after snapshots',
      );
      expect(settled.divergence!.max).toBeLessThan(0.01);
      // Snapshots were compared with the page's own past at the same simulated time (the page ran
      // ahead of the server), not just adopted.
      expect(settled.corrections.none + settled.corrections.smooth).toBeGreaterThan(0);
      // The server's robot moved as well: the operator's commands reached the authority.
      serverPose.unsubscribe();
      expect(serverX.length).toBeGreaterThan(2);
      expect(Math.max(...serverX) - serverX[0]!).toBeGreaterThan(0.3);
      const health = JSON.stringify(await demo.app.health());
      expect(health).toMatch(/worst browser divergence/);
      await page.screenshot({ path: `${results}browser-sim-browser-mode.png` });
      // The 3D view draws the MuJoCo model itself: the robot's orange chassis is in the picture,
      // around its middle (the camera follows the base), not three grey boxes.
      const view = page.locator('telekit-sim-view');
      await expect
        .poll(() => view.evaluate((v) => (v as unknown as { model?: unknown }).model !== undefined), {
          timeout: 20_000,
        })
        .toBe(true);
      await expect
        .poll(() => view.locator('[data-field="bodies"]').textContent(), { timeout: 20_000 })
        .toBe('3 bodies');
      // On a loaded machine the view may pause (its commands come first), and pause again: ask it
      // to draw until its picture holds the robot.
      const drawAnyway = view.getByRole('button', { name: 'Draw anyway' });
      let robot = { all: 0, middle: 0, width: 0, height: 0 };
      await expect
        .poll(
          async () => {
            if (await drawAnyway.isVisible()) await drawAnyway.click();
            const shot = await view.screenshot({ path: `${results}browser-sim-3d-view.png` });
            robot = await page.evaluate(chassisPixels, shot.toString('base64'));
            return robot.middle;
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBeGreaterThan(500);
      expect(robot.middle / robot.all, JSON.stringify(robot)).toBeGreaterThan(0.9);
    } finally {
      await page.close();
    }
  });

  it('the learned autopilot (ONNX in onnxruntime-web) drives the robot to a waypoint, here and on the server', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${demo.operatorUrl}&sim=browser`);
      const start = (
        await until(page, (s) => s.mode.mode === 'browser' && s.local?.base !== undefined, 'browser mode')
      ).local!.base!;
      const goal = { x: Number((start.x - 1).toFixed(2)), y: Number((start.y + 1).toFixed(2)) };
      await page.fill('#goal-x', String(goal.x));
      await page.fill('#goal-y', String(goal.y));
      await page.getByRole('button', { name: 'Go' }).click();
      const done = await until(
        page,
        (s) => s.autopilot?.state === 'arrived' || /failed/.test(s.autopilot?.state ?? ''),
        'the autopilot',
        120_000,
      );
      expect(done.autopilot!.state).toBe('arrived');
      // Browser mode was asked for, so lagging behind real time does not hand over; a fallback for
      // any other reason (a disagreement with the server) is a failure.
      expect(done.mode.mode, `the page fell back: ${done.mode.reason}`).toBe('browser');
      // The page's robot gets there too (on a loaded machine its simulation runs behind the
      // server's, which the autopilot may have judged by, and catches up).
      const at = (s: PageSnapshot) => Math.hypot(s.local!.base!.x - goal.x, s.local!.base!.y - goal.y);
      const here = await until(
        page,
        (s) => s.local?.base !== undefined && at(s) < 0.25,
        'the page’s robot at the goal',
      );
      expect(at(here)).toBeLessThan(0.25);
      // The commands went to the server as well: its robot got there too.
      const there = await firstValueFrom(demo.app.transport.subscribe(Topics.pose).pipe(timeout(5_000)));
      expect(Math.hypot(there.position.x - goal.x, there.position.y - goal.y)).toBeLessThan(0.4);
      await page.screenshot({ path: `${results}browser-sim-autopilot.png` });
    } finally {
      await page.close();
    }
  });

  it('without WebAssembly the page falls back to server mode and shows video', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.addInitScript(() => {
        // As in a browser with WebAssembly turned off by policy.
        Reflect.deleteProperty(globalThis, 'WebAssembly');
      });
      await page.goto(demo.operatorUrl);
      const s = await until(page, (x) => x.mode.mode === 'server', 'server mode');
      expect(s.mode.reason).toBe('this browser has no WebAssembly');
      await expect.poll(() => page.locator('#reason').textContent()).toBe('this browser has no WebAssembly');
      const playing = await until(page, (x) => (x.video?.frames ?? 0) > 10, 'video', 60_000);
      expect(playing.video!.state).toBe('playing');
      await page.screenshot({ path: `${results}browser-sim-fallback-no-wasm.png` });
    } finally {
      await page.close();
    }
  });

  it('a corrupt scene asset falls back to server mode, naming the asset', async () => {
    const page = await browser.newPage();
    try {
      await page.route('**/sim/assets/**', (route) => route.fulfill({ body: '<mujoco><bogus/></mujoco>' }));
      await page.goto(demo.operatorUrl);
      const s = await until(page, (x) => x.mode.mode === 'server', 'server mode');
      expect(s.mode.reason).toContain('asset diff_drive.xml of scene diff-drive is corrupt');
    } finally {
      await page.close();
    }
  });

  it('?sim=server selects server mode (SIM_MODE for one page)', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${demo.operatorUrl}&sim=server`);
      const s = await until(page, (x) => x.mode.mode === 'server', 'server mode');
      expect(s.mode.reason).toContain('SIM_MODE=server');
    } finally {
      await page.close();
    }
  });
});
