import type { TeleopSim } from './app.js';
import { forwardDistance, launchChromium, snapshot, until } from './browser.js';

/** What `--check` measured. */
export interface CheckReport {
  distanceM: number;
  framesReceived: number;
  videoMode: string;
  inputToActuation: { p50: number; p99: number; count: number } | null;
  glassToGlassP50: number | null;
  /** Where the page simulated and why. */
  simMode: string;
  /** The page simulator's divergence from the server at its last snapshot, m. */
  divergenceM: number | null;
  problems: string[];
}

/**
 * Drives the demo as a person would: Debian's Chromium opens the operator page, waits for video,
 * requests control, holds W for `driveMs`, and reads back what the page measured.
 */
export async function runCheck(
  demo: TeleopSim,
  options: { driveMs?: number; screenshot?: string } = {},
): Promise<CheckReport> {
  const browser = await launchChromium({ webgl: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(demo.operatorUrl);
    const ready = await until(
      page,
      (s) => s.video.frames > 5 && s.pose !== undefined,
      60_000,
      'video and pose',
    );
    await page.getByRole('button', { name: 'Request control' }).click();
    await until(page, (s) => s.holdsControl, 10_000, 'the control lease');
    const start = (await snapshot(page)).pose!;
    await page.keyboard.down('w');
    await new Promise((r) => setTimeout(r, options.driveMs ?? 3_000));
    await page.keyboard.up('w');
    // Let the last actuation reports and the pose arrive.
    await new Promise((r) => setTimeout(r, 1_000));
    const end = await snapshot(page);
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
    const distanceM = forwardDistance(start, end.pose!);
    const report: CheckReport = {
      distanceM,
      framesReceived: end.video.frames,
      videoMode: end.video.mode,
      inputToActuation: end.link?.inputToActuation ?? null,
      glassToGlassP50: end.video.glassToGlassP50,
      simMode: `${end.sim.mode.mode} (${end.sim.mode.reason})`,
      divergenceM: end.sim.divergence?.max ?? null,
      problems: [],
    };
    if (distanceM < 0.2) report.problems.push(`the robot did not move forward (${distanceM.toFixed(3)} m)`);
    if (end.video.frames <= ready.video.frames) report.problems.push('no video arrived while driving');
    return report;
  } finally {
    await browser.close();
  }
}
