// Every element on the harness page at once, fed by the fake client, and a screenshot of the page
// in test-results/ (ui-widgets-harness.png): what the other tests drive, one picture to look at.
import { exampleMessages } from '@telekit/core/schemas';
import { expect, it } from 'vitest';
import { describeInChromium, results } from './harness.js';

const TAGS = [
  'telekit-estop',
  'telekit-teleop-pad',
  'telekit-link-health',
  'telekit-recorder',
  'telekit-theme-toggle',
  'telekit-telemetry-plot',
  'telekit-camera-viewer',
  'telekit-sim-view',
] as const;

describeInChromium(
  'the harness page',
  ({ page }) => {
    it('renders every element together, bound to one client', async () => {
      await page().evaluate(
        ({ tags }) => {
          const h = window.harness;
          const c = h.client;
          c.define('/recorder/status', 'telemetry');
          c.define('/recorder/request', 'control');
          c.grant({ id: 'me', name: 'operator-1', role: 'operator' }, true);
          c.estop$.next({ latched: true, by: 'operator-1', reason: 'operator pressed e-stop' });
          c.answers['/media/streams'] = { streams: [] };
          for (const tag of tags) h.mount(tag, tag === 'telekit-camera-viewer' ? { paused: '' } : {});
        },
        { tags: TAGS },
      );
      // Bound once their first update ran: telemetry from then on reaches them.
      await page().evaluate(
        (tags) =>
          Promise.all(
            tags.map(
              (tag) =>
                (document.querySelector(tag) as unknown as { updateComplete: Promise<boolean> })
                  .updateComplete,
            ),
          ),
        TAGS,
      );
      await page().evaluate(
        ({ state }) => {
          const c = window.harness.client;
          c.health$.next({
            rtt: { p50: 3.2, p99: 11.7, count: 40 },
            offset: -2.5,
            estimate: { offset: 1.2, rtt: 3, uncertainty: 1.5, samples: 8 },
            inputToActuation: { p50: 21.4, p99: 38.9, count: 120 },
            fates: { applied: 118 },
            budget: {
              windowMs: 5_000,
              stages: [
                { stage: 'input', p50: 1, p99: 4, count: 120 },
                { stage: 'network', p50: 2, p99: 9, count: 120 },
                { stage: 'gate', p50: 0.5, p99: 1, count: 120 },
                { stage: 'apply', p50: 16, p99: 30, count: 118 },
              ],
              inputToActuation: { p50: 21.4, p99: 38.9, count: 120 },
              fates: { applied: 118 },
            },
            drops: { telemetry: 0, control: 0 },
            lease: null,
            commandsSent: 120,
            controlLane: 'datachannel',
            lane: {
              mode: 'auto',
              lane: 'datachannel',
              dataChannel: { state: 'open', rtt: { p50: 2, p99: 4, count: 20 } },
            },
          });
          const start = Date.now() - 8_000;
          for (let i = 0; i <= 80; i++)
            c.push('/telemetry/pose', {
              header: { stamp: start + i * 100, seq: i, frame: 'map' },
              position: { x: Math.sin(i / 8), y: Math.cos(i / 11), z: 0 },
              orientation: { x: 0, y: 0, z: 0, w: 1 },
            });
          c.push('/recorder/status', {
            file: 'session.mcap',
            bytes: 4_200_000,
            files: 1,
            dropped: 0,
            droppedControl: 0,
            episodes: 2,
            episode: { index: 3, task: 'drive to the red cube', startedAt: Date.now() - 12_000 },
          });
          c.push('/telemetry/sim_state', state);
        },
        { state: exampleMessages.simState },
      );
      for (const tag of TAGS)
        await expect
          .poll(
            () =>
              page()
                .locator(tag)
                .evaluate((el) => el.shadowRoot?.childElementCount ?? 0),
            { message: tag },
          )
          .toBeGreaterThan(0);
      await expect
        .poll(() => page().locator('telekit-link-health [data-field="rtt"]').textContent())
        .toMatch(/p50/);
      await expect
        .poll(() => page().locator('telekit-telemetry-plot [data-field="position.x"]').textContent())
        .toMatch(/\d/);
      await expect
        .poll(() => page().locator('telekit-sim-view [data-field="bodies"]').textContent())
        .toBe('1 bodies');
      await expect
        .poll(() => page().locator('telekit-recorder [data-field="recorder-status"]').textContent())
        .toMatch(/recording episode 3/);
      await page().screenshot({ path: `${results}ui-widgets-harness.png`, fullPage: true });
    });
  },
  { webgl: true },
);
