import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApp, inProcess, silentLogger } from '@telekit/core';
import { MediaStats } from '@telekit/core/schemas';
import { type Gateway, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import { gatewayClient } from '@telekit/gateway/client';
import { testPatternSource } from '@telekit/testkit/fakes';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hlsRoute, MediaDemandToken, nvencMedia } from '../src/index.js';
import { BARS, barColours, framesShown, launchChromium, viewerPage } from './browser/harness.js';

// The media plugin in an app behind the gateway: HLS served through the gateway (`hlsRoute()`) to viewers it lets in,
// stats over the gateway and on /metrics, and a source that stops showing as "no signal".
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const cam = testPatternSource({ width: 320, height: 240, fps: 30, scroll: false, name: 'cam' });
const dying = testPatternSource({ width: 160, height: 120, fps: 15, name: 'dying' });
let app: ReturnType<typeof createApp>;
let running: Gateway;
let browser: Browser;
let token = '';
let adminToken = '';
/** /metrics, read as an admin (the gateway may keep it from everyone else). */
const scrape = async () =>
  (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();

beforeAll(async () => {
  const page = await viewerPage();
  token = await signToken({ sub: 'vera', role: 'viewer' }, { secret, expiresIn: '10m' });
  adminToken = await signToken({ sub: 'ada', role: 'admin' }, { secret, expiresIn: '10m' });
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      nvencMedia({
        noSignalMs: 1_000,
        streams: [
          {
            id: 'cam',
            source: cam,
            profile: { width: 320, height: 240, fps: 30, bitrateKbps: 800, gopSeconds: 1 },
          },
          { id: 'dying', source: dying, hls: false, onDemand: false },
        ],
      }),
      hlsRoute(),
      gateway({
        auth: jwtVerifier({ secret }),
        port: 0,
        onListen: (g) => (running = g),
        routes: (req, res) => {
          if (req.url?.startsWith('/viewer.js')) {
            res.writeHead(200, { 'content-type': 'text/javascript' }).end(page.js);
            return true;
          }
          if (req.url?.startsWith('/hls.html')) {
            res.writeHead(200, { 'content-type': 'text/html' }).end(page.html);
            return true;
          }
          return false;
        },
      }),
    ],
  });
  await app.start();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await cam.close();
});

describe('the media plugin behind the gateway', () => {
  it('HLS from the same encode plays in Chromium through hls.js, for a viewer with a token', {
    timeout: 60_000,
  }, async () => {
    const playlist = `${running.url}/media/hls/cam/index.m3u8`;
    expect((await fetch(playlist)).status).toBe(401);
    expect((await fetch(`${playlist}?token=forged`)).status).toBe(401);
    expect((await fetch(`${running.url}/media/hls/cam/..%2F..%2Fetc%2Fpasswd?token=${token}`)).status).toBe(
      404,
    );
    await vi.waitFor(async () => expect((await fetch(`${playlist}?token=${token}`)).status).toBe(200), {
      timeout: 15_000,
      interval: 250,
    });
    const page = await browser.newPage();
    await page.goto(`${running.url}/hls.html?mode=hls&stream=cam&token=${token}`);
    const state = await framesShown(page, 15, 40_000);
    expect(state.error).toBeUndefined();
    expect([state.width, state.height]).toEqual([320, 240]);
    expect(await barColours(page)).toEqual(BARS);
    expect(state.latencies.length).toBeGreaterThan(5);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: `${results}media-hls.png` });
    await page.close();
  });

  it('stats per stream go to viewers over the gateway and to /metrics; a stopped source shows "no signal"', {
    timeout: 60_000,
  }, async () => {
    const viewer = gatewayClient({ url: running.url, token });
    await viewer.connect();
    // `cam` encodes while someone holds it (here a plugin would: a recorder, say); `dying` always.
    const release = app.resolve(MediaDemandToken).acquire('cam', 'test');
    const live = async () => MediaStats.parse(await viewer.request('/media/stats', {}));
    await vi.waitFor(
      async () => {
        const stats = await live();
        expect(stats.streams.map((s) => [s.stream, s.state])).toEqual([
          ['cam', 'live'],
          ['dying', 'live'],
        ]);
        const camStats = stats.streams[0]!;
        expect(camStats.fps).toBeGreaterThan(5);
        expect(camStats.bitrateKbps).toBeGreaterThan(0);
        expect(camStats.keyframes).toBeGreaterThan(0);
        expect(camStats.encodeMsPerFrame).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 500 },
    );
    const metrics = await scrape();
    expect(metrics).toMatch(/telekit_media_signal\{stream="cam"\} 1/);
    expect(metrics).toMatch(/telekit_media_keyframes_total\{stream="cam"\} [1-9]/);
    expect(metrics).toContain('telekit_clients'); // the gateway's own metrics are still there

    await dying.close();
    await vi.waitFor(
      async () => {
        const stats = await live();
        expect(stats.streams.find((s) => s.stream === 'dying')).toMatchObject({ state: 'no-signal', fps: 0 });
        expect(stats.streams.find((s) => s.stream === 'cam')?.state).toBe('live');
      },
      { timeout: 20_000, interval: 500 },
    );
    expect((await app.health()).plugins['@telekit/media-nvenc']).toMatchObject({
      status: 'degraded',
      detail: 'no signal: dying',
    });
    expect(await scrape()).toMatch(/telekit_media_signal\{stream="dying"\} 0/);
    release();
    await viewer.close();
  });
});
