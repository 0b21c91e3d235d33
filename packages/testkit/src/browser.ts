/**
 * A real browser for tests, benchmarks and demo checks: Debian's Chromium (never a downloaded one),
 * driven by playwright-core.
 *
 * @module
 */
import { type Browser, chromium } from 'playwright-core';

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** WebGL through SwiftShader (software), for three.js views on machines without a GPU. Default false. */
  webgl?: boolean;
  /** More command-line switches. */
  args?: readonly string[];
}

/**
 * Launches Chromium headless: `$CHROMIUM_PATH`, or Debian's `/usr/bin/chromium`
 * (`apt-get install chromium`; the project's setup script installs it). Media autoplays; nothing
 * phones home.
 *
 * @example
 * ```ts
 * import { launchChromium } from '@telekit/testkit/browser';
 * const browser = await launchChromium({ webgl: true });
 * const page = await browser.newPage();
 * ```
 */
export function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      ...(options.webgl ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] : ['--disable-gpu']),
      ...(options.args ?? []),
    ],
  });
}
