import type { LatencyBudget, Percentiles } from '@telekit/gateway/client';
import type { SimViewStats } from '@telekit/ui-widgets';
import type { Page } from 'playwright-core';

export { launchChromium } from '@telekit/testkit/browser';

/** What the page measured (window.telekit.snapshot()). */
export interface PageSnapshot {
  pose?: { x: number; y: number; yaw: number };
  /** The camera viewer's figures; `mode: 'none'` while the video is closed. */
  video: {
    mode: string;
    state: string;
    frames: number;
    fps: number;
    bitrateKbps: number;
    glassToGlassP50: number | null;
    error?: string;
  };
  /** Whether the camera panel's video is open, and since when (ms ago). */
  videoOpen: boolean;
  videoOpenedMsAgo: number | null;
  link?: {
    rtt: Percentiles | null;
    offset: number | null;
    inputToActuation: Percentiles | null;
    /** The latency budget of this page's commands over the gateway's window. */
    budget: LatencyBudget;
    /** Commands this page has sent. */
    commandsSent: number;
  };
  /** The control lane: where streamed commands leave now, the DataChannel's state, commands by lane. */
  lane: {
    controlLane: 'datachannel' | 'socket.io';
    /** The DataChannel as this page sees it (null before the first link health). */
    dataChannel: {
      state: 'off' | 'connecting' | 'open' | 'failed';
      reason?: string;
      rtt: Percentiles | null;
    } | null;
    /** The page's DataChannel as the gateway sees it: its state, commands that came in over it. */
    gateway: { state: string; commands: number } | null;
    /** Commands this page sent, by the lane they left on. */
    sent: Partial<Record<'datachannel' | 'socket.io', number>>;
  };
  holdsControl: boolean;
  /** What the gateway refused of this page's messages since it loaded, by error code. */
  faults: Record<string, number>;
  banner: string | null;
  /** Where the page simulates, and its divergence from the server at the last snapshot (m). */
  sim: {
    mode: { mode: 'starting' | 'browser' | 'server'; reason: string };
    divergence?: { time: number; max: number; mean: number; correction: string };
    /** The largest divergence of the last 10 s, m. */
    worstDivergence10s: number | null;
  };
  /** The 3D view: frame rate, quality level, whether it paused and why. */
  view?: SimViewStats;
  /** The page's main thread: long tasks (over 50 ms) seen, the longest, their total over 5 s. */
  page: { longTasks: number; longestTaskMs: number; longTaskMsLast5s: number };
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
