// <telekit-estop> in Chromium: what a click and the keyboard publish, what the latched state shows,
// and the deliberate hold that clears it.
import { Topics } from '@telekit/core';
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

const estops = () => window.harness.client.published.filter((p) => p.topic === '/controller/estop');

describeInChromium('<telekit-estop>', ({ page }) => {
  it('a click on STOP publishes an engage on the e-stop topic; it shows "armed" until the gateway says latched', async () => {
    await page().evaluate(() => window.harness.mount('telekit-estop'));
    const stop = page().getByRole('button', { name: 'Emergency stop' });
    await expect
      .poll(() => page().locator('telekit-estop [data-field="latched"]').textContent())
      .toBe('armed');
    await stop.click();
    const sent = await page().evaluate(estops);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe(Topics.estop.name);
    expect(sent[0]!.message).toMatchObject({
      engage: true,
      reason: 'operator pressed e-stop',
      header: { seq: expect.any(Number), stamp: expect.any(Number) },
    });
    // Publishing is not latching: the widget shows what the gateway says, not what it asked for.
    expect(await stop.getAttribute('data-latched')).toBe('false');

    await page().evaluate(() => window.harness.client.estop$.next({ latched: true, by: 'alice' }));
    const latched = page().locator('telekit-estop [data-field="latched"]');
    await expect.poll(() => latched.textContent()).toBe('E-STOP LATCHED by alice');
    expect(await latched.getAttribute('role')).toBe('alert');
    expect(await stop.getAttribute('data-latched')).toBe('true');
    const events = await page().evaluate(() =>
      window.harness.events.filter((e) => e.type === 'telekit-estop'),
    );
    expect(events.at(-1)?.detail).toEqual({ latched: true, by: 'alice' });
  });

  it('Enter and Space on the focused STOP button engage it too', async () => {
    await page().evaluate(() => window.harness.mount('telekit-estop'));
    await page().getByRole('button', { name: 'Emergency stop' }).focus();
    await page().keyboard.press('Enter');
    await page().keyboard.press(' ');
    const sent = await page().evaluate(estops);
    expect(sent.map((p) => (p.message as { engage: boolean }).engage)).toEqual([true, true]);
  });

  it('clearing takes a hold of clear-hold-ms: letting go early sends nothing, holding on clears', async () => {
    await page().evaluate(() => {
      window.harness.client.estop$.next({ latched: true, by: 'bob' });
      window.harness.mount('telekit-estop', { 'clear-hold-ms': '400' });
    });
    const clear = page().getByRole('button', { name: 'Hold to clear the e-stop' });
    await expect.poll(() => clear.count()).toBe(1);
    const progress = () => clear.evaluate((b) => (b as HTMLElement).style.getPropertyValue('--p'));

    // Pointer: pressed until the bar has moved, then let go before the end.
    const box = (await clear.boundingBox())!;
    await page().mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page().mouse.down();
    await expect.poll(progress).not.toBe('0%');
    await page().mouse.up();
    await expect.poll(progress).toBe('0%');
    expect(await page().evaluate(estops)).toEqual([]);

    // Keyboard: Space held on the clear button until it clears.
    await clear.focus();
    await page().keyboard.down(' ');
    await expect.poll(() => page().evaluate(estops)).toHaveLength(1);
    await page().keyboard.up(' ');
    const [cleared] = await page().evaluate(estops);
    expect(cleared!.message).toMatchObject({ engage: false, reason: 'cleared' });
    // Still latched until the gateway says otherwise; then armed again, and the clear button goes.
    await page().evaluate(() => window.harness.client.estop$.next({ latched: false, by: 'bob' }));
    await expect
      .poll(() => page().locator('telekit-estop [data-field="latched"]').textContent())
      .toBe('armed');
    expect(await clear.count()).toBe(0);
  });
});
