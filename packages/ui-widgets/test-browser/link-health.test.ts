// <telekit-link-health> in Chromium: the link's figures from a link-health object, the control lane
// and why, the latency waterfall, and the lease with its one Request/Release button.
import type { ClientLinkHealth } from '@telekit/gateway/client';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

/** A link as the client reports it: socket.io because the DataChannel failed, commands measured. */
const health: ClientLinkHealth = {
  rtt: { p50: 3.2, p99: 11.75, count: 40 },
  offset: -2.5,
  estimate: { offset: 1.25, rtt: 3, uncertainty: 1.5, samples: 8 },
  inputToActuation: { p50: 21.4, p99: 38.9, count: 120 },
  fates: { applied: 118, superseded: 2 },
  budget: {
    windowMs: 5_000,
    stages: [
      { stage: 'input', p50: 1, p99: 4, count: 120 },
      { stage: 'network', p50: 2, p99: 9, count: 120 },
      { stage: 'gate', p50: 0.5, p99: 1, count: 120 },
      { stage: 'apply', p50: 16, p99: 30, count: 118 },
    ],
    inputToActuation: { p50: 21.4, p99: 38.9, count: 120 },
    fates: { applied: 118, superseded: 2 },
  },
  drops: { telemetry: 3, control: 1 },
  lease: null,
  commandsSent: 120,
  controlLane: 'socket.io',
  lane: {
    mode: 'auto',
    lane: 'socket.io',
    dataChannel: { state: 'failed', reason: 'ICE failed', rtt: null },
  },
};

const field = (page: import('playwright-core').Page, name: string) =>
  page
    .locator(`telekit-link-health [data-field="${name}"]`)
    .textContent()
    .then((t) => t?.replace(/\s+/g, ' ').trim());

describeInChromium('<telekit-link-health>', ({ page }) => {
  it('shows the round trip, clock offset, lane, input→actuation, fates and drops of the link health', async () => {
    await page().evaluate(() => window.harness.mount('telekit-link-health'));
    // Before any health: dashes, and the link as the client's state says.
    await expect.poll(() => field(page(), 'status')).toBe('connected');
    expect(await field(page(), 'rtt')).toBe('—');
    expect(await field(page(), 'drops')).toBe('—');

    await page().evaluate((h) => window.harness.client.health$.next(h), health);
    await expect.poll(() => field(page(), 'rtt')).toBe('p50 3.2 ms · p99 11.8 ms');
    // The client's own estimate wins over the echoed offset.
    expect(await field(page(), 'offset')).toBe('1.3 ms');
    expect(await field(page(), 'actuation')).toBe('p50 21.4 ms · p99 38.9 ms');
    expect(await field(page(), 'fates')).toBe('applied 118 · superseded 2 (last 5 s)');
    expect(await field(page(), 'drops')).toBe('telemetry 3 · control 1');
    expect(await field(page(), 'lane')).toBe('socket.io · DataChannel failed: ICE failed');
    const lane = page().locator('telekit-link-health [data-field="lane"]');
    expect(await lane.getAttribute('data-lane')).toBe('socket.io');
    expect(await page().getByRole('status', { name: 'control lane socket.io' }).count()).toBe(1);

    // The waterfall: a row per measured stage in order, then input → actuation.
    const rows = page().locator('telekit-link-health table.waterfall tbody tr');
    expect(await rows.evaluateAll((tr) => tr.map((r) => r.getAttribute('data-stage')))).toEqual([
      'input',
      'network',
      'gate',
      'apply',
      'total',
    ]);
    expect(await rows.last().locator('[data-field="p99"]').textContent()).toBe('38.9 ms');

    // The DataChannel opens: the lane says so, with its ping.
    await page().evaluate(
      (h) =>
        window.harness.client.health$.next({
          ...h,
          controlLane: 'datachannel',
          lane: {
            mode: 'auto',
            lane: 'datachannel',
            dataChannel: { state: 'open', rtt: { p50: 2.04, p99: 5, count: 9 } },
          },
        }),
      health,
    );
    await expect.poll(() => field(page(), 'lane')).toBe('DataChannel · ping p50 2.0 ms');
  });

  it('the link going down shows with its reason', async () => {
    await page().evaluate(() => window.harness.mount('telekit-link-health'));
    await page().evaluate(() =>
      window.harness.client.state$.next({
        status: 'reconnecting',
        since: Date.now(),
        reason: 'transport close',
      }),
    );
    await expect.poll(() => field(page(), 'status')).toBe('reconnecting — transport close');
    expect(await page().getByRole('button', { name: 'Request control' }).isDisabled()).toBe(true);
  });

  it('Request control asks for the lease and says why it was not granted; holding it, the button releases', async () => {
    await page().evaluate(() => {
      window.harness.client.leaseAnswer = {
        granted: false,
        reason: 'held',
        holder: { id: 'b', name: 'bob', role: 'operator' },
      };
      window.harness.client.grant({ id: 'b', name: 'bob', role: 'operator' }, false);
      window.harness.mount('telekit-link-health');
    });
    await expect.poll(() => field(page(), 'lease')).toBe('bob');
    await page().getByRole('button', { name: 'Request control' }).click();
    await expect
      .poll(() => page().locator('telekit-link-health p.note').textContent())
      .toBe('not granted: held (held by bob)');
    expect(await page().evaluate(() => window.harness.client.leaseRequests)).toEqual([{ takeover: false }]);

    await page().evaluate(() =>
      window.harness.client.grant({ id: 'me', name: 'me', role: 'operator' }, true),
    );
    await expect.poll(() => field(page(), 'lease')).toBe('me (you)');
    const lease = await page().evaluate(() =>
      window.harness.events.filter((e) => e.type === 'telekit-lease').at(-1),
    );
    expect(lease?.detail).toEqual({ holder: { id: 'me', name: 'me', role: 'operator' }, mine: true });
    await page().getByRole('button', { name: 'Release control' }).click();
    await expect.poll(() => page().evaluate(() => window.harness.client.releases)).toBe(1);
    await expect.poll(() => field(page(), 'lease')).toBe('nobody');
    expect(await page().getByRole('button', { name: 'Request control' }).count()).toBe(1);
  });

  it('an admin may take control over', async () => {
    await page().evaluate(() => {
      window.harness.client.role = 'admin';
      window.harness.client.grant({ id: 'b', name: 'bob', role: 'operator' }, false);
      window.harness.mount('telekit-link-health');
    });
    await page().getByRole('button', { name: 'Take over' }).click();
    await expect
      .poll(() => page().evaluate(() => window.harness.client.leaseRequests))
      .toEqual([{ takeover: true }]);
  });
});
