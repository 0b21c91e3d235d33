import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger, Topics } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { launchChromium } from '@telekit/testkit/browser';
import type { Browser } from 'playwright-core';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RoslibUi, startRoslibUi } from './app.js';

// The example end to end: Debian's Chromium runs the classic roslibjs page (roslib 2.1, unmodified,
// loaded as one script), which drives the real MuJoCo sidecar through the gateway's rosbridge
// endpoint; Telekit's camera widget beside it plays the simulator's camera over WebRTC.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));

describe('roslib-ui in Chromium', () => {
  let ui: RoslibUi;
  let browser: Browser;
  beforeAll(async () => {
    ui = await startRoslibUi({ port: 0, logger: silentLogger });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await ui?.close();
  });

  it('the page connects, holding W drives the simulated robot, /odom follows, and the camera plays', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(ui.operatorUrl);
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('connected');
    await expect.poll(() => page.locator('#odom').textContent(), { timeout: 30_000 }).toMatch(/^x -?\d/);

    // Where the server's robot is, as any Telekit client sees it.
    const watcher = gatewayClient({
      url: ui.gateway.url,
      token: new URL(ui.operatorUrl).searchParams.get('token')!,
    });
    await watcher.connect();
    const x = async () => (await firstValueFrom(watcher.subscribe(Topics.pose))).position.x;
    try {
      const before = await x();
      await page.keyboard.down('w');
      await expect.poll(x, { timeout: 30_000 }).toBeGreaterThan(before + 0.2);
      await page.keyboard.up('w');
      // The page's odometry shows the same robot moving.
      await expect
        .poll(async () =>
          Number(/^x (-?[\d.]+)/.exec((await page.locator('#odom').textContent()) ?? '')?.[1]),
        )
        .toBeGreaterThan(before + 0.2);
    } finally {
      await watcher.close();
    }

    // Telekit's camera widget beside it: frames decoded and shown.
    const frames = () =>
      page.evaluate(
        () =>
          (document.querySelector('telekit-camera-viewer') as unknown as { stats: { frames: number } }).stats
            .frames,
      );
    await expect.poll(frames, { timeout: 60_000 }).toBeGreaterThan(5);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: `${results}roslib-ui.png` });
  }, 180_000);

  it("without a token, the gateway refuses the page's rosbridge connection", async () => {
    const page = await browser.newPage();
    await page.goto(`${ui.gateway.url}/`);
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 30_000 })
      .toMatch(/error|closed/);
  }, 60_000);
});
