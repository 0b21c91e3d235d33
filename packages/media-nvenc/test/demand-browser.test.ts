import { createApp, inProcess, silentLogger } from '@telekit/core';
import { GatewayToken, gateway } from '@telekit/gateway';
import { genesisSim, type SidecarHealth } from '@telekit/sim-genesis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nvencMedia } from '../src/index.js';
import { launchChromium } from './browser/harness.js';
import { watchPageRoutes } from './browser/watch-server.js';
import { descendants } from './processes.js';

// Video on demand in Chromium, with the real sidecar (MuJoCo rendering its camera), ffmpeg and
// mediasoup, and the camera viewer widget behind the gateway: a page that has not opened the video
// costs no encoder and no rendering; opening it brings a picture (how soon is `pnpm bench`'s to say).
let app: ReturnType<typeof createApp>;
let url = '';
let browser: Browser;

beforeAll(async () => {
  const routes = await watchPageRoutes();
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      // The demo's camera.
      genesisSim({
        scene: { id: 'diff-drive' },
        camera: { camera: 'overview', width: 640, height: 480, fps: 30 },
        perfEveryMs: 250,
      }),
      nvencMedia({ lingerMs: 500, streams: [{ id: 'sim-camera', source: 'sim-camera' }] }),
      gateway({ auth: 'none', port: 0, routes }),
    ],
  });
  await app.start();
  url = app.resolve(GatewayToken).url;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const encoders = () => descendants(process.pid).filter((p) => p.comm === 'ffmpeg');
const camera = async () =>
  ((await app.health()).plugins['@telekit/sim-genesis'] as SidecarHealth | undefined)?.data.camera;
const watch = (page: Page) => page.evaluate(() => window.telekitWatch.stats());

describe('in Chromium: video only when the page opens it', () => {
  it('a page without video: no encoder, no rendering; opening it: a picture; closing it: the encoder stops', {
    timeout: 90_000,
  }, async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/watch`);
    await page.waitForFunction(() => window.telekitWatch?.connected, undefined, { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(encoders()).toEqual([]);
    const idle = await camera();
    expect(idle?.on).toBe(false);

    await page.evaluate(() => window.telekitWatch.open('sim-camera'));
    await page.waitForFunction(() => (window.telekitWatch.stats()?.frames ?? 0) > 0, undefined, {
      timeout: 20_000,
    });
    const first = await watch(page);
    console.log(`first frame ${first?.firstFrameMs?.toFixed(0)} ms after opening the video`);
    expect(first?.mode).toBe('webrtc');
    // Measured and reported, not bounded: how soon is the benchmark's to say (a few hundred ms on a
    // quiet machine), and a loaded one must not fail a correct page.
    expect(first?.firstFrameMs).toBeGreaterThan(0);
    expect(encoders()).toHaveLength(1);
    await vi.waitFor(async () => expect((await camera())?.rendered).toBeGreaterThan(idle?.rendered ?? 0), {
      timeout: 20_000,
    });

    // The stages of the frames' trip reach the page: its own at once, the server's with /media/stats.
    await vi.waitFor(
      async () =>
        expect((await watch(page))?.budget?.stages.map((s) => s.stage)).toEqual(
          expect.arrayContaining(['render', 'encode', 'sfu', 'network', 'buffer', 'decode', 'present']),
        ),
      { timeout: 20_000, interval: 500 },
    );

    // Paused, the viewer holds nothing: the encoder stops; resumed, the picture comes back.
    await page.evaluate(() => window.telekitWatch.pause(true));
    await vi.waitFor(() => expect(encoders()).toEqual([]), { timeout: 10_000, interval: 50 });
    expect((await watch(page))?.state).toBe('idle');
    const before = (await watch(page))?.frames ?? 0;
    await page.evaluate(() => window.telekitWatch.pause(false));
    await page.waitForFunction((n) => (window.telekitWatch.stats()?.frames ?? 0) > n, before, {
      timeout: 20_000,
    });

    await page.evaluate(() => window.telekitWatch.close());
    await vi.waitFor(() => expect(encoders()).toEqual([]), { timeout: 10_000, interval: 50 });
    await vi.waitFor(async () => expect((await camera())?.on).toBe(false), { timeout: 20_000 });
    await page.close();
  });
});
