// <telekit-teleop-pad> in Chromium: keys, the stick and a gamepad (only with its deadman button held)
// make twists at the input and then at the steady rate; letting go sends one zero; without control
// it sends nothing and says so.
import { expect, it } from 'vitest';
import { describeInChromium } from './harness.js';

interface Sent {
  linear: number;
  angular: number;
  inputAt: number | undefined;
  at: number;
}

/** The twists published so far: forward speed, turn rate, the input's moment and the send's. */
const twists = (): Sent[] =>
  window.harness.client.published
    .filter((p) => p.topic === '/controller/twist')
    .map((p) => {
      const m = p.message as { linear: { x: number }; angular: { z: number } };
      return { linear: m.linear.x, angular: m.angular.z, inputAt: p.inputAt, at: p.at };
    });

const drive = (page: import('playwright-core').Page, attributes: Record<string, string> = {}) =>
  page.evaluate((a) => {
    window.harness.client.grant({ id: 'me', name: 'me', role: 'operator' }, true);
    window.harness.mount('telekit-teleop-pad', a);
  }, attributes);

describeInChromium('<telekit-teleop-pad>', ({ page }) => {
  it('a held key sends at once, then every period stamped when due; letting go sends one zero, then nothing', async () => {
    await drive(page(), { rate: '10', 'max-linear': '0.8' });
    const stick = page().getByRole('application', { name: 'Drive the robot' });
    await stick.focus();
    await page().keyboard.down('w');
    await expect
      .poll(() => page().locator('telekit-teleop-pad [data-field="control"]').textContent())
      .toBe('driving');
    // The first at the key press, then the repeats: six in all before letting go.
    await expect.poll(async () => (await page().evaluate(twists)).length).toBeGreaterThanOrEqual(6);
    await page().keyboard.up('w');
    await expect.poll(async () => (await page().evaluate(twists)).at(-1)?.linear).toBe(0);

    const sent = await page().evaluate(twists);
    const held = sent.slice(0, -1);
    expect(held.every((t) => t.linear === 0.8 && t.angular === 0)).toBe(true);
    expect(sent.at(-1)).toMatchObject({ linear: 0, angular: 0 });
    // Every command carries its input's moment, never after it left.
    for (const t of sent) expect(t.inputAt).toBeLessThanOrEqual(t.at);
    // The repeats are stamped with the moments they were due: a period (100 ms at 10 Hz) apart, or
    // more where the page fell a whole period behind; a timer that fires a hair early on the page's
    // clock stamps its send instead (never an input after the send), hence the 2 ms.
    const gaps = held.slice(1).map((t, i) => t.inputAt! - held[i]!.inputAt!);
    expect(Math.min(...gaps), `gaps ${gaps}`).toBeGreaterThanOrEqual(98);
    expect(
      gaps.some((g) => Math.abs(g - 100) < 2),
      `gaps ${gaps}`,
    ).toBe(true);

    // Then nothing: three periods on the page's clock after the zero, still the same commands.
    const zeroAt = sent.at(-1)!.at;
    await page().waitForFunction((t) => performance.timeOrigin + performance.now() > t + 300, zeroAt);
    expect(await page().evaluate(twists)).toHaveLength(sent.length);
    await expect
      .poll(() => page().locator('telekit-teleop-pad [data-field="control"]').textContent())
      .toBe('WASD / arrows / stick');
  });

  it('the stick drives as far as it is pushed, and lets go with a zero', async () => {
    await drive(page());
    const stick = page().getByRole('application', { name: 'Drive the robot' });
    const box = (await stick.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page().mouse.move(cx, cy);
    await page().mouse.down();
    // Pushed to the top edge: full speed ahead; then to the left edge: turning left on the spot.
    await page().mouse.move(cx, box.y + 1, { steps: 4 });
    await expect.poll(async () => (await page().evaluate(twists)).at(-1)?.linear).toBeGreaterThan(0.45);
    await page().mouse.move(box.x + 1, cy, { steps: 4 });
    await expect
      .poll(async () => (await page().evaluate(twists)).at(-1))
      .toMatchObject({ linear: expect.closeTo(0, 1), angular: expect.closeTo(1.5, 1) });
    await page().mouse.up();
    await expect
      .poll(async () => (await page().evaluate(twists)).at(-1))
      .toMatchObject({ linear: 0, angular: 0 });
    const events = await page().evaluate(() =>
      window.harness.events.filter((e) => e.type === 'telekit-twist'),
    );
    expect(events.length).toBe((await page().evaluate(twists)).length);
  });

  it('a gamepad drives only while its deadman button is held', async () => {
    await drive(page(), { 'deadman-button': '4' });
    await page().evaluate(() => {
      const pad = window.harness.connectPad();
      pad.axes[1] = -1; // the left stick pushed forward
    });
    // Polled at the rate, but the deadman is not held: the robot is not driven.
    const reads = await page().evaluate(() => window.harness.padReads);
    await expect.poll(() => page().evaluate(() => window.harness.padReads)).toBeGreaterThan(reads + 3);
    expect(await page().evaluate(twists)).toEqual([]);

    await page().evaluate(() => {
      window.harness.pads[0]!.buttons[4]!.pressed = true;
    });
    await expect.poll(async () => (await page().evaluate(twists)).length).toBeGreaterThanOrEqual(3);
    expect((await page().evaluate(twists)).every((t) => t.linear === 0.5)).toBe(true);
    await page().evaluate(() => {
      window.harness.pads[0]!.buttons[4]!.pressed = false;
    });
    await expect.poll(async () => (await page().evaluate(twists)).at(-1)?.linear).toBe(0);
  });

  it('without control it sends nothing and says so; granted control, the keys drive', async () => {
    await page().evaluate(() => window.harness.mount('telekit-teleop-pad'));
    const stick = page().getByRole('application', { name: 'Drive the robot' });
    expect(await stick.getAttribute('aria-disabled')).toBe('true');
    expect(await page().locator('telekit-teleop-pad [data-field="control"]').textContent()).toBe(
      'watching — request control to drive',
    );
    await stick.focus();
    await page().keyboard.down('a');
    // The state follows the key (the knob is lit), but nothing leaves without the lease.
    await expect.poll(() => stick.getAttribute('class')).toContain('active');
    expect(await page().evaluate(twists)).toEqual([]);
    // Granted while the key is held: it starts sending at once, turning left.
    await page().evaluate(() =>
      window.harness.client.grant({ id: 'me', name: 'me', role: 'operator' }, true),
    );
    await expect
      .poll(async () => (await page().evaluate(twists)).at(0))
      .toMatchObject({ linear: 0, angular: 1.5 });
    expect(await stick.getAttribute('aria-disabled')).toBe('false');
    await page().keyboard.up('a');
    await expect.poll(async () => (await page().evaluate(twists)).at(-1)?.angular).toBe(0);
  });
});
