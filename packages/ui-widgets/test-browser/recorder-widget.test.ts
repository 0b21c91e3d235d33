// <telekit-recorder> (recorder-widget.ts) in Chromium: Record and Stop publish the recorder's
// requests on /recorder/request with the task, the status line follows /recorder/status, and
// refusals, a viewer's session and a client without the recorder's topics each say so.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

const requests = () =>
  window.harness.client.published
    .filter((p) => p.topic === '/recorder/request')
    .map((p) => p.message as { header: { seq: number }; action: string; task?: string });

const text = (page: Page, field: string) =>
  page
    .locator(`telekit-recorder [data-field="${field}"]`)
    .textContent()
    .then((t) => t?.replace(/\s+/g, ' ').trim());

/** A page whose client knows the recorder's topics, with the widget on it. */
const withRecorder = (page: Page, role: 'operator' | 'viewer' = 'operator') =>
  page.evaluate((r) => {
    const c = window.harness.client;
    c.role = r;
    c.define('/recorder/status', 'telemetry');
    c.define('/recorder/request', 'control');
    window.harness.mount('telekit-recorder');
  }, role);

const idle = { file: 'session.mcap', bytes: 2_500_000, files: 1, dropped: 0, droppedControl: 0, episodes: 0 };

describeInChromium('<telekit-recorder>', ({ page }) => {
  it('Record publishes a start with the task, Stop a stop; the status line follows the recorder', async () => {
    await withRecorder(page());
    const record = page().getByRole('button', { name: 'Record' });
    await expect.poll(() => text(page(), 'recorder-note')).toBe('waiting for the recorder…');
    expect(await text(page(), 'recorder-status')).toBe('no status yet');
    expect(await record.isDisabled()).toBe(true);
    expect(await page().getByRole('group', { name: 'Recorder' }).count()).toBe(1);

    await page().evaluate((s) => window.harness.client.push('/recorder/status', s), idle);
    await expect
      .poll(() => text(page(), 'recorder-status'))
      .toBe('not recording · 0 episodes so far · session.mcap · 2.5 MB · dropped 0');
    expect(await page().locator('telekit-recorder [data-field="recorder-note"]').count()).toBe(0);

    await page().getByRole('textbox', { name: 'Episode task' }).fill('  drive to the red cube ');
    await record.click();
    await expect.poll(() => page().evaluate(requests)).toHaveLength(1);
    const [start] = await page().evaluate(requests);
    expect(start).toMatchObject({ action: 'start', task: 'drive to the red cube' });
    expect(await text(page(), 'recorder-note')).toBe('starting…');

    // The recorder answers this request and records: the button stops, the task is locked.
    await page().evaluate(
      ({ s, seq }) =>
        window.harness.client.push('/recorder/status', {
          ...s,
          bytes: 3_000_000,
          episode: { index: 1, task: 'drive to the red cube', startedAt: Date.now() - 65_000 },
          answer: { sender: 'me', seq, ok: true },
        }),
      { s: idle, seq: start!.header.seq },
    );
    await expect
      .poll(() => text(page(), 'recorder-status'))
      .toMatch(/^recording episode 1 · 1:0\d · session\.mcap · 3\.0 MB · dropped 0$/);
    expect(await page().locator('telekit-recorder [data-field="recorder-note"]').count()).toBe(0);
    expect(await page().getByRole('textbox', { name: 'Episode task' }).isDisabled()).toBe(true);
    const stop = page().getByRole('button', { name: 'Stop recording' });
    expect(await stop.getAttribute('data-recording')).toBe('true');

    await stop.click();
    await expect.poll(() => page().evaluate(requests)).toHaveLength(2);
    const [, stopped] = await page().evaluate(requests);
    expect(stopped).toMatchObject({ action: 'stop' });
    expect(stopped).not.toHaveProperty('task');
    // Refused by the recorder: the answer's reason shows.
    await page().evaluate(
      ({ s, seq }) =>
        window.harness.client.push('/recorder/status', {
          ...s,
          episode: { index: 1, task: 'x', startedAt: Date.now() },
          answer: { sender: 'me', seq, ok: false, reason: 'disk full' },
        }),
      { s: idle, seq: stopped!.header.seq },
    );
    await expect.poll(() => text(page(), 'recorder-note')).toBe('not done: disk full');
  });

  it('a refusal by the gateway says why', async () => {
    await withRecorder(page());
    await page().evaluate((s) => window.harness.client.push('/recorder/status', s), idle);
    await page().getByRole('button', { name: 'Record' }).click();
    await page().evaluate(() =>
      window.harness.client.faults$.next({
        code: 'E_FORBIDDEN',
        message: 'forbidden',
        topic: '/recorder/request',
      }),
    );
    await expect
      .poll(() => text(page(), 'recorder-note'))
      .toBe('recording is for operators: this session may only watch');
  });

  it('a viewer sees the status and a disabled button', async () => {
    await withRecorder(page(), 'viewer');
    await page().evaluate((s) => window.harness.client.push('/recorder/status', s), idle);
    await expect.poll(() => text(page(), 'recorder-note')).toBe('watching: only operators record');
    expect(await page().getByRole('button', { name: 'Record' }).isDisabled()).toBe(true);
  });

  it('without the recorder’s topics it says what the page must give its client', async () => {
    await page().evaluate(() => window.harness.mount('telekit-recorder'));
    await expect
      .poll(() => text(page(), 'recorder-note'))
      .toBe("no recorder topics: give the page's client RecorderTopics (@telekit/recorder/topics)");
  });

  it('optional: hidden until a recorder’s status arrives', async () => {
    await page().evaluate(() => {
      const c = window.harness.client;
      c.define('/recorder/status', 'telemetry');
      c.define('/recorder/request', 'control');
      window.harness.mount('telekit-recorder', { optional: '' });
    });
    const widget = page().locator('telekit-recorder');
    await expect.poll(() => widget.isVisible()).toBe(false);
    await page().evaluate((s) => window.harness.client.push('/recorder/status', s), idle);
    await expect.poll(() => widget.isVisible()).toBe(true);
  });
});
