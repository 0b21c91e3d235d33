import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTeleopSim, type TeleopSim } from './app.js';
import { forwardDistance, launchChromium, snapshot, until } from './browser.js';
import {
  axeCheck,
  checkLayouts,
  describeAxe,
  ESTOP_MIN,
  inside,
  pictureWidgets,
  STICK_MIN,
  stampBarShown,
  tabThrough,
} from './page-checks.js';

// The demo end to end: the real sidecar (MuJoCo), encoder, SFU and gateway, driven from Debian's
// Chromium the way a person would. Screenshots go to test-results/.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
/** `TELEKIT_UPDATE_DOCS=1`: the widgets' pictures are copied into their README's folder too. */
const docs = process.env.TELEKIT_UPDATE_DOCS
  ? fileURLToPath(new URL('../../../packages/ui-widgets/docs/images/', import.meta.url))
  : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let demo: TeleopSim;
let browser: Browser;
let operator: Page;

const pose = async (page: Page) => (await until(page, (s) => s.pose !== undefined, 10_000, 'pose')).pose!;
/** The camera stream as the media plugin's health reports it (viewers, state). */
const mediaStream = async () => {
  const health = await demo.app.health();
  const data = health.plugins['@telekit/media-nvenc']?.data as Record<
    string,
    { viewers: number; holders: number; state: string }
  >;
  return data?.['sim-camera'];
};

beforeAll(async () => {
  mkdirSync(results, { recursive: true });
  demo = await startTeleopSim({ port: 0, logger: silentLogger });
  browser = await launchChromium({ webgl: true });
  operator = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

describe('teleop-sim in Chromium', { timeout: 90_000 }, () => {
  it('browser mode: the page draws its own simulation with the video closed; opening it plays it', async () => {
    await operator.goto(demo.operatorUrl);
    const s = await until(
      operator,
      (x) => x.link?.rtt != null && x.pose !== undefined && x.sim.mode.mode !== 'starting',
      60_000,
      'link health, pose and the simulation mode',
    );
    // The page also runs the scene (SIM_MODE auto: Chromium here keeps up) and syncs to the server.
    expect(s.sim.mode.mode).toBe('browser');
    await until(operator, (x) => x.sim.divergence !== undefined, 30_000, 'a synced page simulator');
    await expect.poll(() => operator.locator('#sim-mode').textContent()).toBe('sim: browser + server');
    // …so it asks the server for no video until the operator opens it: no viewer at the server.
    expect(s.videoOpen).toBe(false);
    expect(await operator.locator('telekit-camera-viewer').count()).toBe(0);
    await expect.poll(() => operator.locator('[data-field="video-note"]').textContent()).toMatch(/closed/);
    // Nobody holds the stream, so the server neither renders nor encodes it (video on demand).
    await expect
      .poll(mediaStream, { timeout: 20_000 })
      .toMatchObject({ viewers: 0, holders: 0, state: 'idle' });
    // The 3D view says how fast it draws (or that it paused, and why).
    await expect
      .poll(() => operator.locator('telekit-sim-view [data-field="fps"]').textContent(), { timeout: 20_000 })
      .toMatch(/\d+ fps · \w|paused/);
    // …drawn from the MuJoCo model the page simulates (its geoms), not as boxes.
    await expect
      .poll(() =>
        operator
          .locator('telekit-sim-view')
          .evaluate((v) => (v as unknown as { model?: unknown }).model !== undefined),
      )
      .toBe(true);
    await operator.screenshot({ path: `${results}teleop-sim-browser-mode.png` });

    await operator.getByRole('button', { name: 'Open video' }).click();
    const opened = performance.now();
    await until(operator, (x) => x.video.frames > 0, 30_000, 'the first video frame');
    console.log(
      `teleop-sim e2e: first video frame ${(performance.now() - opened).toFixed(0)} ms after opening`,
    );
    // Glass-to-glass needs frames whose stamps the page has read: on a loaded machine the first
    // playing frames may come before any is read, so it is waited for, not judged at once.
    const v = await until(
      operator,
      (x) => x.video.frames > 10 && x.video.state === 'playing' && x.video.glassToGlassP50 !== null,
      60_000,
      'video playing, its glass-to-glass measured',
    );
    expect(v.video.mode).toBe('webrtc');
    // The media plugin samples its streams once a second: its health says live a sample after the page.
    await expect.poll(mediaStream, { timeout: 20_000 }).toMatchObject({ viewers: 1, state: 'live' });
    await expect.poll(() => operator.locator('[data-field="rtt"]').textContent()).toMatch(/\d+\.\d ms/);
    await expect.poll(() => operator.locator('[data-field="offset"]').textContent()).toMatch(/ms/);
    await expect
      .poll(() => operator.locator('[data-field="overlay"]').textContent())
      .toMatch(/WEBRTC · \d+ fps/);
    await operator.screenshot({ path: `${results}teleop-sim-loaded.png` });
    // The stamp bar is read (glass-to-glass above) but not shown: the picture's top rows are not
    // its pattern. With the debug flag (`show-stamp`; `?debug=stamp` on the page) they are.
    const viewer = operator.locator('telekit-camera-viewer');
    expect(await stampBarShown(viewer)).toBeNull();
    await viewer.evaluate((v) => v.setAttribute('show-stamp', ''));
    await expect.poll(() => stampBarShown(viewer), { timeout: 20_000 }).not.toBeNull();
    await viewer.screenshot({ path: `${results}teleop-sim-stamp-shown.png` });
    await viewer.evaluate((v) => v.removeAttribute('show-stamp'));
    await expect.poll(() => stampBarShown(viewer), { timeout: 20_000 }).toBeNull();
    // Its pictures for the README, at a README's size.
    await viewer.evaluate((v) => v.style.setProperty('width', '480px'));
    for (const colorScheme of ['light', 'dark'] as const) {
      await operator.emulateMedia({ colorScheme });
      await pictureWidgets(operator, colorScheme, results, docs, ['telekit-camera-viewer']);
    }
    await operator.emulateMedia({ colorScheme: null });
    await viewer.evaluate((v) => v.style.removeProperty('width'));
  });

  it('holding W moves the robot forward over the DataChannel (link health says so); releasing stops it within the deadman time', async () => {
    await operator.getByRole('button', { name: 'Request control' }).click();
    await until(operator, (s) => s.holdsControl, 20_000, 'the lease');
    await expect.poll(() => operator.locator('[data-field="control"]').textContent()).toMatch(/WASD/);
    // The page's streamed commands take the DataChannel once it is open (controlLane 'auto').
    const onLane = await until(
      operator,
      (s) => s.lane.controlLane === 'datachannel' && s.lane.dataChannel?.state === 'open',
      30_000,
      'the DataChannel lane open',
    );
    const lane = operator.locator('telekit-link-health [data-field="lane"]');
    await expect
      .poll(() => operator.getByRole('status', { name: 'control lane DataChannel' }).count(), {
        timeout: 20_000,
      })
      .toBe(1);
    expect(await lane.getAttribute('data-lane')).toBe('datachannel');
    const start = await pose(operator);
    await operator.keyboard.down('w');
    await sleep(1_500);
    await operator.screenshot({ path: `${results}teleop-sim-driving.png` });
    await operator.keyboard.up('w');
    await sleep(400); // past the 250 ms deadman
    const stopped = await pose(operator);
    expect(forwardDistance(start, stopped)).toBeGreaterThan(0.2);
    await sleep(800);
    const later = await pose(operator);
    expect(Math.hypot(later.x - stopped.x, later.y - stopped.y)).toBeLessThan(0.03);
    const s = await snapshot(operator);
    expect(s.link?.inputToActuation?.count).toBeGreaterThan(10);
    // The robot moved from commands sent over the DataChannel: the page sent them on it, and the
    // gateway counts them coming in over it (its link health, about once a second).
    const overDataChannel = (s.lane.sent.datachannel ?? 0) - (onLane.lane.sent.datachannel ?? 0);
    console.log(
      `teleop-sim e2e: the drive's commands by lane: ${overDataChannel} over the DataChannel, ${(s.lane.sent['socket.io'] ?? 0) - (onLane.lane.sent['socket.io'] ?? 0)} over socket.io`,
    );
    expect(overDataChannel, 'commands sent over the DataChannel while W was held').toBeGreaterThan(10);
    await until(
      operator,
      (x) => (x.lane.gateway?.commands ?? 0) > 10,
      20_000,
      'the gateway to count the commands that came in over the DataChannel',
    );
    await expect.poll(() => lane.textContent()).toMatch(/DataChannel/);
    // The latency budget, stage by stage, as a waterfall in the link-health panel.
    const waterfall = operator.getByRole('table', { name: 'Latency budget' });
    await expect.poll(() => waterfall.locator('tr[data-stage]').count()).toBeGreaterThanOrEqual(7);
    for (const stage of ['input', 'network', 'gate', 'forward', 'apply', 'report', 'total'])
      await expect
        .poll(() => waterfall.locator(`tr[data-stage="${stage}"] [data-field="p50"]`).textContent())
        .toMatch(/\d+\.\d ms/);
    expect(s.link?.budget.stages.map((x) => x.stage)).toEqual([
      'input',
      'network',
      'gate',
      'forward',
      'apply',
      'report',
    ]);
    // Every command's fate is shown, not only the applied ones'.
    await expect.poll(() => operator.locator('[data-field="fates"]').textContent()).toMatch(/applied \d+/);
    await operator.locator('telekit-link-health').screenshot({ path: `${results}teleop-sim-waterfall.png` });
  });

  it('e-stop halts the robot, the page shows the latch, and clearing takes a deliberate hold', async () => {
    await operator.keyboard.down('w');
    await sleep(500);
    await operator.getByRole('button', { name: 'Emergency stop' }).click();
    await expect
      .poll(() => operator.getByRole('alert').filter({ hasText: 'E-STOP LATCHED' }).count())
      .toBe(1);
    await sleep(500);
    const a = await pose(operator);
    await sleep(800); // W is still held
    const b = await pose(operator);
    expect(Math.hypot(b.x - a.x, b.y - a.y)).toBeLessThan(0.03);
    await operator.keyboard.up('w');
    await operator.screenshot({ path: `${results}teleop-sim-estop.png` });
    // A click is not enough to clear it…
    const clear = operator.getByRole('button', { name: 'Hold to clear' });
    await clear.click();
    await sleep(300);
    expect(await operator.getByText('E-STOP LATCHED').count()).toBe(1);
    // …holding is.
    await clear.hover();
    await operator.mouse.down();
    await sleep(1_900);
    await operator.mouse.up();
    await expect.poll(() => operator.locator('[data-field="latched"]').textContent()).toMatch(/armed/);
  });

  it('a viewer without the lease cannot drive', async () => {
    const viewer = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await viewer.goto(demo.viewerUrl);
    await until(viewer, (s) => s.video.frames > 5 && s.pose !== undefined, 60_000, 'the viewer page');
    await viewer.getByRole('button', { name: 'Request control' }).click();
    await expect.poll(() => viewer.getByRole('status').filter({ hasText: 'not granted' }).count()).toBe(1);
    await expect.poll(() => viewer.locator('[data-field="control"]').textContent()).toMatch(/watching/);
    const a = await pose(viewer);
    await viewer.keyboard.down('w');
    await sleep(1_000);
    await viewer.keyboard.up('w');
    const b = await pose(viewer);
    expect(Math.hypot(b.x - a.x, b.y - a.y)).toBeLessThan(0.03);
    // Even a hand-made command from that page is refused at the gateway.
    const refused = await viewer.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const { client, topics } = (
            window as unknown as {
              telekit: {
                client: import('@telekit/gateway/client').GatewayClient;
                topics: typeof import('@telekit/core').Topics;
              };
            }
          ).telekit;
          const sub = client.faults$.subscribe((f) => {
            sub.unsubscribe();
            resolve(`${f.code}: ${f.message}`);
          });
          client.publish(topics.twist, {
            header: { seq: 1, stamp: Date.now(), sender: 'x' },
            linear: { x: 1, y: 0, z: 0 },
            angular: { x: 0, y: 0, z: 0 },
          });
        }),
    );
    expect(refused).toMatch(/E_FORBIDDEN|lease/i);
    await viewer.screenshot({ path: `${results}teleop-sim-viewer.png` });
    await viewer.close();
  });

  it('with UDP blocked in Chromium the page falls back to socket.io by itself, says so, and still drives', async () => {
    // The lease passes to the new page.
    if ((await snapshot(operator).catch(() => undefined))?.holdsControl) {
      await operator.getByRole('button', { name: 'Release control' }).click();
      await until(operator, (s) => !s.holdsControl, 20_000, 'the lease released');
    }
    // Chromium sends no UDP that a proxy does not carry (there is none): ICE has no path. Server
    // mode with the video closed keeps this second browser light.
    const blocked = await launchChromium({ args: ['--webrtc-ip-handling-policy=disable_non_proxied_udp'] });
    try {
      const page = await blocked.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(
        `${demo.operatorUrl}${demo.operatorUrl.includes('?') ? '&' : '?'}sim=server&video=closed`,
      );
      const failed = await until(
        page,
        (s) => s.link?.rtt != null && s.pose !== undefined && s.lane.dataChannel?.state === 'failed',
        60_000,
        'the page up and its DataChannel failed',
      );
      expect(failed.lane.controlLane).toBe('socket.io');
      expect(failed.lane.dataChannel?.reason).toMatch(/did not open|failed/);
      // Link health says so: the lane by name, and why not the DataChannel (tried again meanwhile).
      await expect
        .poll(() => page.getByRole('status', { name: 'control lane socket.io' }).count(), { timeout: 20_000 })
        .toBe(1);
      const lane = page.locator('telekit-link-health [data-field="lane"]');
      expect(await lane.getAttribute('data-lane')).toBe('socket.io');
      expect(await lane.textContent()).toMatch(
        /socket\.io\s*· DataChannel (failed: |opening again \().*(did not open|failed)/,
      );
      await page
        .locator('telekit-link-health')
        .screenshot({ path: `${results}teleop-sim-lane-fallback.png` });

      await page.getByRole('button', { name: 'Request control' }).click();
      await until(page, (s) => s.holdsControl, 20_000, 'the lease');
      const before = await until(page, (s) => s.pose !== undefined, 20_000, 'pose');
      await page.keyboard.down('w');
      await sleep(1_500);
      await page.keyboard.up('w');
      const after = await until(
        page,
        (s) => forwardDistance(before.pose!, s.pose!) > 0.2,
        20_000,
        'the robot to move forward',
      );
      const overSocketIo = (after.lane.sent['socket.io'] ?? 0) - (before.lane.sent['socket.io'] ?? 0);
      console.log(
        `teleop-sim e2e, UDP blocked: ${overSocketIo} commands over socket.io, ${after.lane.sent.datachannel ?? 0} over the DataChannel; it: ${after.lane.dataChannel?.state} (${after.lane.dataChannel?.reason ?? ''})`,
      );
      expect(overSocketIo, 'commands sent over socket.io while W was held').toBeGreaterThan(10);
      expect(after.lane.sent.datachannel ?? 0, 'none over the DataChannel').toBe(0);
      expect(after.lane.controlLane).toBe('socket.io');
    } finally {
      await blocked.close();
    }
  });

  // Five pages, one after another: a budget for a loaded machine (it takes 30–45 s at load 15, and
  // took 282 s at load 18-20 with other suites running, the desktop 81 s of it).
  it('every layout (desktop, tablet, phone; upright and sideways) keeps the e-stop in view and large and the pad drivable by touch, in light and dark; every control by keyboard; axe finds nothing serious', {
    timeout: 480_000,
  }, async () => {
    // Each layout's page takes the lease in turn to drive by its stick.
    if ((await snapshot(operator).catch(() => undefined))?.holdsControl) {
      await operator.getByRole('button', { name: 'Release control' }).click();
      await until(operator, (s) => !s.holdsControl, 10_000, 'the lease released');
    }
    const serious: string[] = [];
    const reports = await checkLayouts(
      browser,
      demo.operatorUrl,
      results,
      async (page, layout, theme, step) => {
        if (layout.name === 'desktop') {
          // Link health pictured with its latency waterfall: commands within the gateway's window (5 s).
          const client = (p: Page, action: 'requestControl' | 'releaseControl') =>
            p.evaluate(
              (a) =>
                (
                  window as unknown as {
                    telekit: { client: Record<'requestControl' | 'releaseControl', () => Promise<unknown>> };
                  }
                ).telekit.client[a](),
              action,
            );
          await client(page, 'requestControl');
          await until(page, (s) => s.holdsControl, 20_000, 'the lease for the pictures');
          await page.keyboard.down('w');
          await sleep(800);
          await page.keyboard.up('w');
          await until(
            page,
            (s) => (s.link?.budget.inputToActuation?.count ?? 0) > 0,
            20_000,
            'a latency budget',
          );
          await client(page, 'releaseControl');
          await until(page, (s) => !s.holdsControl, 20_000, 'the lease released');
          await pictureWidgets(page, theme, results, docs);
        }
        if (layout.name === 'desktop' && step === 0) {
          // Every control by keyboard, each with its focus ring showing.
          const reached = await tabThrough(page);
          console.log(`keyboard (${theme}): ${reached.map((r) => r.name).join(' → ')}`);
          // (A page that fell back to server mode has opened its video: "Close video".)
          const names = reached.map((r) => r.name);
          for (const name of [
            /^Dark theme$/,
            /^Emergency stop$/,
            /^(Open|Close) video$/,
            /^Drive the robot$/,
            /^Request control$/,
          ])
            expect(
              names.some((n) => name.test(n)),
              `${name} in ${names.join(', ')}`,
            ).toBe(true);
          expect(reached.filter((r) => !r.focusRing)).toEqual([]);
        }
        // axe on a desktop in both themes (contrast), on a phone in one (the layout).
        if (layout.name === 'desktop' || (layout.name === 'phone-portrait' && step === 0)) {
          const findings = await axeCheck(page);
          console.log(describeAxe(`${layout.name} ${theme}`, findings));
          serious.push(
            ...findings
              .filter((f) => !f.review && (f.impact === 'serious' || f.impact === 'critical'))
              .map((f) => `${layout.name} ${theme}: ${f.id} (${f.targets.join(' ')})`),
          );
        }
      },
    );
    for (const r of reports) {
      console.log(
        `layout ${r.layout} ${r.viewport.width}×${r.viewport.height}: e-stop ${Math.round(r.estop.width)}×${Math.round(r.estop.height)} at (${Math.round(r.estop.x)}, ${Math.round(r.estop.y)}), stick ${Math.round(r.stick.width)} px, twist ${r.twist.linear.toFixed(2)} m/s by ${r.twist.pointer}, themes ${r.themes.map((t) => `${t.theme}${t.chosen ? ' (chosen)' : ''}`).join(' → ')}${r.estopTouch ? `, e-stop by touch: latched ${r.estopTouch.latched}, cleared ${r.estopTouch.cleared}` : ''}${r.followsSystem !== undefined ? `, follows the system: ${r.followsSystem}` : ''}; ${(r.ms / 1000).toFixed(1)} s`,
      );
      expect(inside(r.estop, r.viewport), r.layout).toBe(true);
      expect(inside(r.estopScrolled, r.viewport), r.layout).toBe(true);
      expect(r.estop.width, r.layout).toBeGreaterThanOrEqual(ESTOP_MIN.width);
      expect(r.estop.height, r.layout).toBeGreaterThanOrEqual(ESTOP_MIN.height);
      expect(inside(r.stick, r.viewport), r.layout).toBe(true);
      expect(r.stick.width, r.layout).toBeGreaterThanOrEqual(STICK_MIN);
      expect(r.twist.linear, r.layout).toBeGreaterThan(0);
      if (r.layout !== 'desktop') expect(r.twist.pointer, r.layout).toBe('touch');
      if (r.estopTouch) expect(r.estopTouch, 'the e-stop by touch').toEqual({ latched: true, cleared: true });
      if (r.followsSystem !== undefined) expect(r.followsSystem, 'the theme follows the system').toBe(true);
      // The toggle switched the theme and remembered it.
      expect(new Set(r.themes.map((t) => t.theme)), r.layout).toEqual(new Set(['light', 'dark']));
    }
    expect(serious).toEqual([]);
  });

  it('every widget has a live page of its own', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const token = new URL(demo.viewerUrl).search;
    for (const tag of [
      'telekit-camera-viewer',
      'telekit-telemetry-plot',
      'telekit-link-health',
      'telekit-sim-view',
    ]) {
      await page.goto(`${demo.gateway.url}/widgets/${tag}${token}`);
      await expect.poll(() => page.locator(tag).count()).toBe(1);
      const live = {
        'telekit-camera-viewer': '[data-field="overlay"]',
        'telekit-telemetry-plot': '[data-field="angularVelocity.z"]',
        'telekit-link-health': '[data-field="rtt"]',
        'telekit-sim-view': '[data-field="bodies"]',
      }[tag]!;
      await expect.poll(() => page.locator(live).textContent(), { timeout: 20_000 }).toMatch(/\d/);
      await page.screenshot({ path: `${results}widget-${tag}.png` });
    }
    await page.close();
  });

  it('a bad token gets a clear message; after the gateway drops everyone, the widgets recover by themselves', async () => {
    const forged = await browser.newPage();
    await forged.goto(`${demo.gateway.url}/?token=forged`);
    const refused = await until(forged, (s) => (s.banner ?? '').length > 0, 20_000, 'the refusal');
    expect(refused.banner).toMatch(/refused|invalid/i);
    await forged.close();

    const before = (await snapshot(operator)).video.frames;
    demo.gateway.dropConnections();
    const after = await until(
      operator,
      (s) => s.video.frames > before + 30 && s.video.state === 'playing' && s.banner === '',
      60_000,
      'video back after the drop',
    );
    expect(after.link?.rtt).not.toBeNull();
    await operator.screenshot({ path: `${results}teleop-sim-recovered.png` });
  });
});
