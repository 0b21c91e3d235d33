// <telekit-camera-viewer> in Chromium, without a media server (the e2e tests cover live video): its
// idle and paused states, and the watch it starts with a client — what it asks the gateway for and
// what it says when no video can come.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

const text = (page: Page, field: string) =>
  page
    .locator(`telekit-camera-viewer [data-field="${field}"]`)
    .textContent()
    .then((t) => t?.replace(/\s+/g, ' ').trim());

const states = () =>
  window.harness.events
    .filter((e) => e.type === 'telekit-video-state')
    .map((e) => (e.detail as { state: string }).state);

describeInChromium('<telekit-camera-viewer>', ({ page }) => {
  it('without a client: idle, an empty overlay, no status, its video named after the stream', async () => {
    await page().evaluate(() =>
      window.harness.mount('telekit-camera-viewer', { stream: 'sim-camera' }, { bind: false }),
    );
    await expect.poll(() => text(page(), 'overlay')).toBe('— · 0 fps · 0 kbit/s · glass-to-glass —');
    expect(await page().locator('telekit-camera-viewer [data-field="status"]').count()).toBe(0);
    expect(await page().locator('telekit-camera-viewer video').getAttribute('aria-label')).toBe(
      'camera sim-camera',
    );
    const stats = await page().evaluate(() => document.querySelector('telekit-camera-viewer')!.stats);
    expect(stats).toMatchObject({ mode: 'none', state: 'idle', frames: 0, fps: 0, glassToGlassP50: null });
    // no-overlay hides the figures.
    await page().evaluate(() =>
      document.querySelector('telekit-camera-viewer')!.setAttribute('no-overlay', ''),
    );
    await expect.poll(() => page().locator('telekit-camera-viewer [data-field="overlay"]').count()).toBe(0);
  });

  it('paused, it holds no stream and says so; unpaused, it asks the gateway for the streams', async () => {
    await page().evaluate(() => {
      window.harness.client.answers['/media/streams'] = { streams: [] };
      window.harness.mount('telekit-camera-viewer', { paused: '' });
    });
    await expect.poll(() => text(page(), 'status')).toBe('video paused');
    expect(await page().evaluate(() => window.harness.client.requests)).toEqual([]);
    await page().evaluate(() => {
      document.querySelector('telekit-camera-viewer')!.paused = false;
    });
    await expect
      .poll(() => page().evaluate(() => window.harness.client.requests.map((r) => r.topic)))
      .toContain('/media/streams');
    // The server offers none: it says so, and that it retries.
    await expect
      .poll(() => text(page(), 'status'))
      .toBe('video unavailable: the server offers no streams — retrying');
    expect(await page().evaluate(states)).toEqual(['starting', 'unavailable']);
  });

  it('WebRTC that cannot start shows why; the gateway going away shows too', async () => {
    await page().evaluate(() => {
      const c = window.harness.client;
      c.answers['/media/streams'] = {
        streams: [{ id: 'sim-camera', label: 'sim', codec: 'h264', width: 640, height: 480, fps: 30 }],
      };
      window.harness.mount('telekit-camera-viewer', { mode: 'webrtc' });
    });
    // It asks to join the stream it was offered; no SFU answers here.
    await expect
      .poll(() =>
        page().evaluate(() => window.harness.client.requests.find((r) => r.topic === '/media/join')?.body),
      )
      .toEqual({ stream: 'sim-camera' });
    await expect
      .poll(() => text(page(), 'status'))
      .toBe('video unavailable: WebRTC: no answer for /media/join — retrying');

    await page().evaluate(() =>
      window.harness.client.state$.next({
        status: 'disconnected',
        since: Date.now(),
        reason: 'transport close',
      }),
    );
    await expect
      .poll(() => text(page(), 'status'))
      .toBe('video unavailable: gateway disconnected: transport close — retrying');
  });
});
