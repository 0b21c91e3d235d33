import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@telekit/testkit/browser';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './helpers.js';
import { recordingRobot } from './robot.js';

// Chromium's own RTCPeerConnection against the gateway's node-datachannel: the page drives with the
// client's defaults and link health names the lane; with UDP blocked in the browser it drives over
// socket.io. One small bundled page, no simulator: cheap.
let dir: string;
let g: Awaited<ReturnType<typeof startGateway>>;
let robot: ReturnType<typeof recordingRobot>;
const browsers: Browser[] = [];

interface LanePage {
  health?: {
    controlLane: string;
    lane: { dataChannel: { state: string; reason?: string; rtt: { p50: number } | null } };
    dataChannel?: { state: string; commands: number };
    fates: Record<string, number>;
  };
  sent: Record<string, number>;
  error?: string;
}
const lanePage = (page: Page) => page.evaluate(() => (window as unknown as { lanePage?: LanePage }).lanePage);

async function until(page: Page, test: (s: LanePage) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: LanePage | undefined;
  while (Date.now() < deadline) {
    last = await lanePage(page).catch(() => undefined);
    if (last && test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; the page: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'telekit-lane-page-'));
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser/lane-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(join(dir, 'lane-page.js'), bundle.outputFiles[0]!.text);
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><title>lane</title><script type="module" src="/lane-page.js"></script>',
  );
  g = await startGateway({ staticDir: dir, deadmanMs: 250 });
  robot = recordingRobot(g.app);
}, 60_000);

afterAll(async () => {
  for (const b of browsers) await b.close();
  robot?.stop();
  await g?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the DataChannel lane in Chromium', { timeout: 60_000 }, () => {
  it('the page drives over the DataChannel, and link health says so', async () => {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.newPage();
    await page.goto(`${g.url}/`);
    const s = await until(
      page,
      (x) => x.health?.controlLane === 'datachannel' && (x.health.dataChannel?.commands ?? 0) > 20,
      'link health to say datachannel, with commands through it',
    );
    expect(s.error).toBeUndefined();
    expect(s.health?.lane.dataChannel.state).toBe('open');
    expect(s.sent.datachannel).toBeGreaterThan(20);
    const fromPage = robot.moving().filter((t) => t.header.sender !== 'gateway');
    expect(fromPage.length, 'the robot moved from its commands').toBeGreaterThan(20);
    await page.close();
  });

  it('with UDP blocked in the browser it falls back to socket.io by itself, and says so', async () => {
    // Chromium sends no UDP that a proxy does not carry (there is none): ICE has no path.
    const browser = await launchChromium({ args: ['--webrtc-ip-handling-policy=disable_non_proxied_udp'] });
    browsers.push(browser);
    const page = await browser.newPage();
    const before = robot.moving().length;
    await page.goto(`${g.url}/`);
    const s = await until(
      page,
      (x) => x.health?.lane.dataChannel.state === 'failed' && (x.sent['socket.io'] ?? 0) > 20,
      'the DataChannel to fail and the page to drive over socket.io',
    );
    expect(s.health?.controlLane).toBe('socket.io');
    expect(s.health?.lane.dataChannel.reason).toMatch(/did not open|failed/);
    expect(robot.moving().length - before, 'the robot moved from its socket.io commands').toBeGreaterThan(20);
    await page.close();
  });
});
