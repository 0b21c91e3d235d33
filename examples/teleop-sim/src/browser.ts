import type { Page } from 'playwright-core';

export { launchChromium } from '@telekit/testkit/browser';

/** What the page measured (window.telekit.snapshot()). */
export interface PageSnapshot {
  pose?: { x: number; y: number; yaw: number };
  video: {
    mode: string;
    state: string;
    frames: number;
    fps: number;
    bitrateKbps: number;
    glassToGlassP50: number | null;
    error?: string;
  };
  link?: {
    rtt: number | null;
    offset: number | null;
    inputToActuation: { p50: number; p99: number; count: number } | null;
  };
  holdsControl: boolean;
  banner: string | null;
  /** Where the page simulates, and its divergence from the server at the last snapshot (m). */
  sim: {
    mode: { mode: 'starting' | 'browser' | 'server'; reason: string };
    divergence?: { time: number; max: number; mean: number; correction: string };
  };
}

export const snapshot = (page: Page) =>
  page.evaluate(() => (window as unknown as { telekit: { snapshot(): PageSnapshot } }).telekit.snapshot());

/** Waits for the page to satisfy `test` on its snapshot, polling; throws with the last snapshot. */
export async function until(
  page: Page,
  test: (s: PageSnapshot) => boolean,
  timeoutMs = 30_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  let last: PageSnapshot | undefined;
  while (Date.now() < deadline) {
    // Until the page's script has run, there is no window.telekit yet.
    last = await snapshot(page).catch(() => undefined);
    if (last && test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; page: ${JSON.stringify(last)}`);
}

/** Metres moved from `a` to `b` along `a`'s heading (negative: backwards). */
export function forwardDistance(
  a: { x: number; y: number; yaw: number },
  b: { x: number; y: number },
): number {
  return (b.x - a.x) * Math.cos(a.yaw) + (b.y - a.y) * Math.sin(a.yaw);
}
