import { silentLogger } from '@telekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTeleopSim, type TeleopSim } from './app.js';
import { formatCheck, runCheck } from './check.js';

// The app end to end and headless, as `npm start -- --check` runs it: Debian's Chromium (through
// playwright-core) opens the operator page, requests control, holds W, opens the video and drives
// again. The robot must move and video must arrive; the latency figures are printed, not judged.
describe('teleop-sim, headless', () => {
  let demo: TeleopSim;
  beforeAll(async () => {
    demo = await startTeleopSim({ port: 0, logger: silentLogger });
  }, 120_000);
  afterAll(async () => {
    await demo?.close();
  });

  it('the robot moves and video arrives', { timeout: 180_000 }, async () => {
    const report = await runCheck(demo, { screenshot: 'test-results/check.png' });
    console.log(formatCheck(report, await demo.status()));
    expect(report.problems).toEqual([]);
    expect(report.distanceM).toBeGreaterThan(0.2);
    expect(report.video.framesReceived).toBeGreaterThan(0);
  });
});
