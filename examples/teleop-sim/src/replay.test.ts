import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import { readRecording } from '@telekit/recorder';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTeleopSim, type TeleopSim } from './app.js';
import { forwardDistance, launchChromium, snapshot, until } from './browser.js';
import { startTeleopReplay, type TeleopReplay } from './replay.js';

// Record a session with the demo (`--record`) from its page's recorder widget, then point the same
// page at a replay of it: the recorded robot moves in the page, its recorded camera plays in the
// camera viewer, and a command from it is refused.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'telekit-demo-rec-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let demo: TeleopSim | undefined;
let replay: TeleopReplay | undefined;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await replay?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('records an episode from the page, and the page replays it read-only', { timeout: 180_000 }, async () => {
  // --- record: the widget starts an episode with its task; the operator drives; the widget stops it.
  demo = await startTeleopSim({ port: 0, logger: silentLogger, record: dir });
  await page.goto(demo.operatorUrl);
  await until(page, (s) => s.pose !== undefined && s.link?.rtt != null, 60_000, 'pose and link health');
  const widget = page.getByRole('group', { name: 'Recorder' });
  await widget.getByRole('textbox', { name: 'Episode task' }).fill('drive forward');
  await widget.getByRole('button', { name: 'Record' }).click();
  const status = widget.locator('[data-field="recorder-status"]');
  await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/recording episode 0/);
  expect(await status.textContent()).toMatch(/telekit-.*\.mcap · \d+(\.\d)? (kB|MB) · dropped 0/);
  await widget.screenshot({ path: `${results}telekit-recorder.png` });

  await page.getByRole('button', { name: 'Request control' }).click();
  await until(page, (s) => s.holdsControl, 10_000, 'the lease');
  const start = (await snapshot(page)).pose!;
  await page.keyboard.down('w');
  await sleep(1_500);
  await page.keyboard.up('w');
  await sleep(400);
  const moved = forwardDistance(start, (await snapshot(page)).pose!);
  expect(moved).toBeGreaterThan(0.2);
  await widget.getByRole('button', { name: 'Stop recording' }).click();
  await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/not recording · 1 episode/);
  const file = demo.recorder!.status().file!;
  await demo.close();
  demo = undefined;
  const recorded = await readRecording(file);
  expect(recorded.messages.filter((m) => m.topic === '/video/sim-camera').length).toBeGreaterThan(0);
  expect(recorded.messages.filter((m) => m.topic === '/recorder/episode').map((m) => m.json)).toMatchObject([
    { event: 'start', task: 'drive forward' },
    { event: 'stop', task: 'drive forward' },
  ]);

  // --- replay: the same page, pointed at the recording (4×, so the drive comes soon).
  replay = await startTeleopReplay({ file, speed: 4, port: 0, logger: silentLogger });
  await page.goto(replay.url);
  const first = (await until(page, (s) => s.pose !== undefined, 60_000, 'a replayed pose')).pose!;
  // The recorded robot moves in the page as it moved then.
  const later = await until(
    page,
    (s) => s.pose !== undefined && forwardDistance(first, s.pose) > moved / 2,
    60_000,
    'the replayed robot driving forward',
  );
  // The recorded camera plays in the page's camera viewer, over WebRTC, as the live one did: from
  // the start again at 1× (at 4× the replay may have ended before the viewer connected).
  replay.replay.setSpeed(1);
  replay.replay.seek(0);
  replay.replay.play();
  await until(
    page,
    (s) => s.video.mode === 'webrtc' && s.video.frames >= 30,
    60_000,
    'the replayed camera in the camera viewer',
  );
  await page.screenshot({ path: `${results}teleop-sim-replay.png` });
  expect(forwardDistance(first, later.pose!)).toBeGreaterThan(0.1);
  // Read-only: the page's command is refused, the lease is not granted, and no recorder answers.
  await page.evaluate(() => {
    const { client, topics } = window.telekit;
    client.publish(topics.twist, {
      header: { seq: 0, stamp: Date.now(), sender: 'page' },
      linear: { x: 1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
  });
  await until(page, (s) => (s.faults.E_FORBIDDEN ?? 0) > 0, 20_000, 'the twist refused');
  await page.getByRole('button', { name: 'Request control' }).click();
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'not granted' }).count()).toBe(1);
  expect((await snapshot(page)).holdsControl).toBe(false);
  expect(await page.locator('telekit-recorder').isVisible()).toBe(false);
});
