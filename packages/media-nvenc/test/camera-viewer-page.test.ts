import { createApp, inProcess, silentLogger } from '@telekit/core';
import { GatewayToken, gateway } from '@telekit/gateway';
import { testPatternSource } from '@telekit/testkit/fakes';
import { type WebPage, webPage } from '@telekit/ui-widgets/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hlsRoute, nvencMedia } from '../src/index.js';
import { launchChromium } from './browser/harness.js';

// The camera viewer as an app ships it: its page bundled by webPage (split, hashed, cached), hls.js
// a chunk of its own that only a viewer playing HLS downloads. Real mediasoup, ffmpeg and Chromium.
const cam = testPatternSource({ width: 320, height: 240, fps: 30, name: 'cam' });
let app: ReturnType<typeof createApp>;
let page: WebPage;
let url = '';
let browser: Browser;

beforeAll(async () => {
  page = await webPage({ dir: new URL('./browser/split-page/', import.meta.url) });
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      nvencMedia({
        streams: [
          {
            id: 'cam',
            source: cam,
            profile: { width: 320, height: 240, fps: 30, bitrateKbps: 600, gopSeconds: 1 },
          },
        ],
      }),
      hlsRoute(),
      gateway({ auth: 'none', port: 0, routes: page.routes }),
    ],
  });
  await app.start();
  url = app.resolve(GatewayToken).url;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await cam.close();
});

/** The hls.js chunk among the page's scripts. */
const hlsChunk = () => page.files.find((f) => /^assets\/hls-[\w-]+\.js$/.test(f.path));

/** Opens the page in `mode`, waits for `frames` frames on screen; returns the scripts it fetched. */
async function watch(mode: 'hls' | 'webrtc', frames: number): Promise<{ scripts: string[]; tab: Page }> {
  const tab = await browser.newPage();
  const scripts: string[] = [];
  tab.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
  });
  await tab.goto(`${url}/?mode=${mode}`);
  await tab.waitForFunction(
    (n) => (window.viewerStats?.()?.frames ?? 0) >= n || window.viewerStats?.()?.state === 'unavailable',
    frames,
    { timeout: 60_000 },
  );
  const stats = await tab.evaluate(() => window.viewerStats());
  expect(stats, JSON.stringify(stats)).toMatchObject({ mode, state: 'playing' });
  return { scripts, tab };
}

describe('the camera viewer on a page built by webPage, in Chromium', () => {
  it('hls.js is a chunk of its own, apart from the entry', async () => {
    const chunk = hlsChunk();
    expect(chunk, page.files.map((f) => f.path).join(', ')).toBeDefined();
    // The playlist parser's tags are in the chunk, and nowhere in the entry.
    expect(await (await fetch(`${url}/${chunk!.path}`)).text()).toContain('EXT-X-');
    expect(page.js).not.toContain('EXT-X-');
  });

  it('a WebRTC viewer plays without ever downloading hls.js', { timeout: 120_000 }, async () => {
    const { scripts, tab } = await watch('webrtc', 10);
    expect(scripts).not.toContain(`/${hlsChunk()!.path}`);
    expect(scripts.some((s) => s.startsWith('/assets/app-'))).toBe(true);
    await tab.close();
  });

  it('a viewer playing HLS downloads hls.js then, and plays', { timeout: 120_000 }, async () => {
    const { scripts, tab } = await watch('hls', 10);
    expect(scripts).toContain(`/${hlsChunk()!.path}`);
    await tab.close();
  });
});
