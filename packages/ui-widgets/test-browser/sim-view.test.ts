// <telekit-sim-view> in Chromium (WebGL through SwiftShader), without a server: the boxes it draws for
// bodies set by the page, its frame rate and quality level, and what /telemetry/sim_state and
// /telemetry/sim_scene from a client make of it (the e2e tests cover the live simulator).
import { exampleMessages } from '@telekit/core/schemas';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

const text = (page: Page, field: string) =>
  page
    .locator(`telekit-sim-view [data-field="${field}"]`)
    .textContent()
    .then((t) => t?.replace(/\s+/g, ' ').trim());

const pose = (name: string, x: number) => ({
  name,
  position: { x, y: 0, z: 0.1 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
});

describeInChromium(
  '<telekit-sim-view>',
  ({ page }) => {
    it('without a client: no bodies, then boxes for the bodies the page sets, drawn at a level it names', async () => {
      await page().evaluate(() => window.harness.mount('telekit-sim-view', {}, { bind: false }));
      await expect.poll(() => text(page(), 'bodies')).toBe('0 bodies');
      // It starts drawing: a frame rate and a quality level (SwiftShader: software, so it starts lower).
      await expect.poll(() => text(page(), 'fps')).toMatch(/^\d+ fps · [a-z ]+$/);
      const stats = await page().evaluate(() => document.querySelector('telekit-sim-view')!.stats);
      expect(stats.software).toBe(true);
      expect(stats.targetFps).toBeGreaterThan(0);
      expect(await page().getByRole('alert').count()).toBe(0);

      await page().evaluate(
        (bodies) => document.querySelector('telekit-sim-view')!.setBodies(bodies),
        [pose('base', 0), pose('cube', 1)],
      );
      await expect.poll(() => text(page(), 'bodies')).toBe('2 bodies');
      expect(await page().evaluate(() => document.querySelector('telekit-sim-view')!.drawing)).toBe('boxes');
      expect(await page().locator('telekit-sim-view canvas').getAttribute('aria-label')).toBe(
        '3D view of the scene',
      );
      // The overlay says what `stats` says.
      const now = await page().evaluate(() => document.querySelector('telekit-sim-view')!.stats);
      if (!now.paused) expect(await text(page(), 'fps')).toMatch(new RegExp(`· ${now.level}$`));
    });

    it('with a client: the scene description and the body poses from telemetry', async () => {
      await page().evaluate(() => window.harness.mount('telekit-sim-view'));
      await page().evaluate(
        ({ state, a, b }) => {
          window.harness.client.push('/telemetry/sim_state', {
            ...state,
            bodies: [a, b, { ...a, name: 'c' }],
          });
        },
        { state: exampleMessages.simState, a: pose('base', 0), b: pose('cube', 1) },
      );
      await expect.poll(() => text(page(), 'bodies')).toBe('3 bodies');
      await page().evaluate(
        (scene) => window.harness.client.push('/telemetry/sim_scene', scene),
        exampleMessages.simScene,
      );
      await expect
        .poll(() => page().evaluate(() => document.querySelector('telekit-sim-view')!.drawing))
        .toBe('description');
      await expect.poll(() => text(page(), 'bodies')).toMatch(/^\d+ bodies$/);
      expect(await page().locator('telekit-sim-view [data-field="undrawn"]').count()).toBe(0);
    });

    it('a scene description it cannot draw is reported', async () => {
      await page().evaluate(() => window.harness.mount('telekit-sim-view'));
      await page().evaluate(() => window.harness.client.push('/telemetry/sim_scene', { bodies: 'none' }));
      await expect
        .poll(() => page().getByRole('alert').textContent())
        .toMatch(/^3D view: the scene description could not be drawn \(.+\)$/);
    });
  },
  { webgl: true },
);
