// <telekit-theme-toggle> in Chromium: it follows the system until pressed, flips the document's
// theme, keeps the choice in localStorage for the next visit, and forgets it when the choice is the
// system's.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

const root = (page: Page) =>
  page.evaluate(() => ({
    theme: document.documentElement.dataset.theme,
    colorScheme: document.documentElement.style.colorScheme,
    stored: localStorage.getItem('telekit-theme'),
  }));

const mount = (page: Page, attributes: Record<string, string> = {}) =>
  page.evaluate((a) => window.harness.mount('telekit-theme-toggle', a, { bind: false }), attributes);

describeInChromium('<telekit-theme-toggle>', ({ page }) => {
  it('flips the theme attribute, keeps the choice across a reload, and forgets it when it is the system’s', async () => {
    await page().emulateMedia({ colorScheme: 'light' });
    await mount(page());
    const button = page().getByRole('button', { name: 'Dark theme' });
    await expect.poll(() => root(page())).toEqual({ theme: 'light', colorScheme: 'light', stored: null });
    expect(await button.getAttribute('aria-pressed')).toBe('false');

    await button.click();
    await expect.poll(() => root(page())).toEqual({ theme: 'dark', colorScheme: 'dark', stored: 'dark' });
    expect(await button.getAttribute('aria-pressed')).toBe('true');
    const events = await page().evaluate(() =>
      window.harness.events.filter((e) => e.type === 'telekit-theme'),
    );
    expect(events.map((e) => e.detail)).toEqual([
      { theme: 'light', chosen: false },
      { theme: 'dark', chosen: true },
    ]);

    // The next visit starts dark, though the system is light.
    await page().reload();
    await page().waitForFunction(() => window.harness !== undefined);
    expect((await root(page())).theme).toBeUndefined();
    await mount(page());
    await expect.poll(() => root(page())).toEqual({ theme: 'dark', colorScheme: 'dark', stored: 'dark' });

    // Back to light, the system's: the choice is forgotten, and the page follows the system again.
    await button.click();
    await expect.poll(() => root(page())).toEqual({ theme: 'light', colorScheme: 'light', stored: null });
    await page().emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => root(page())).toEqual({ theme: 'dark', colorScheme: 'dark', stored: null });
    expect(await button.getAttribute('aria-pressed')).toBe('true');
  });

  it('the widgets’ colours follow it', async () => {
    await page().emulateMedia({ colorScheme: 'light' });
    await mount(page());
    await page().evaluate(() => window.harness.mount('telekit-link-health'));
    const background = () =>
      page()
        .locator('telekit-link-health')
        .evaluate((el) => getComputedStyle(el).backgroundColor);
    const light = await background();
    await page().getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(background).not.toBe(light);
  });

  it('keeps the choice under its storage-key', async () => {
    await page().emulateMedia({ colorScheme: 'light' });
    await mount(page(), { 'storage-key': 'my-theme' });
    await page().getByRole('button', { name: 'Dark theme' }).click();
    await expect
      .poll(() =>
        page().evaluate(() => [localStorage.getItem('my-theme'), localStorage.getItem('telekit-theme')]),
      )
      .toEqual(['dark', null]);
  });
});
