/**
 * What the widgets' browser tests share: Debian's Chromium (the suite is skipped, saying why, where
 * it is missing), and the harness page (`page/`: every element and a fake gateway client) bundled
 * and served by the package's own `webPage`, one page per test.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { missingRequirement } from '@telekit/testkit';
import { launchChromium } from '@telekit/testkit/browser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { webPage } from '../src/server/index.js';

export type { Harness } from './page/main.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why this suite cannot run here, or undefined. */
export const reason = missingRequirement([
  {
    ok: existsSync(chromium),
    need: `Chromium at ${chromium} (apt-get install chromium; scripts/setup.sh installs it)`,
  },
]);

/** Where the browser tests' screenshots go (the repository's test-results/, as the e2e tests'). */
export const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));

/** The harness page served on a free port. */
async function serveHarness(): Promise<{ url: string; server: Server }> {
  const page = await webPage({ dir: new URL('./page/', import.meta.url) });
  const server = createServer((req, res) => {
    if (!page.routes(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** A fresh harness page (its own browser context: its own storage) with the harness loaded. */
export async function openPage(
  browser: Browser,
  url: string,
  options: Parameters<Browser['newPage']>[0] = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 760 }, ...options });
  await page.goto(url);
  await page.waitForFunction(() => window.harness !== undefined);
  return page;
}

/**
 * A describe block of tests in Chromium, each with a fresh harness page (`page()`); skipped, with
 * the reason in its title, where Chromium is missing. `webgl`: WebGL through SwiftShader.
 */
export function describeInChromium(
  title: string,
  body: (ctx: { page: () => Page; browser: () => Browser; url: () => string }) => void,
  options: { webgl?: boolean } = {},
): void {
  if (reason) {
    describe.skip(`${title} (skipped: ${reason})`, () => body(unavailable));
    return;
  }
  describe(title, () => {
    let browser: Browser;
    let served: { url: string; server: Server };
    let page: Page | undefined;
    beforeAll(async () => {
      mkdirSync(results, { recursive: true });
      [served, browser] = await Promise.all([
        serveHarness(),
        launchChromium({ webgl: options.webgl ?? false }),
      ]);
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => served?.server.close(r));
    });
    beforeEach(async () => {
      page = await openPage(browser, served.url);
    });
    afterEach(async () => {
      await page?.context().close();
      page = undefined;
    });
    body({ page: () => page!, browser: () => browser, url: () => served.url });
  });
}

const unavailable = {
  page: (): Page => {
    throw new Error(reason);
  },
  browser: (): Browser => {
    throw new Error(reason);
  },
  url: (): string => {
    throw new Error(reason);
  },
};
