// The Transport kit's validation cases: `publish` rejects an invalid message with an error naming
// the field, and a remote transport refuses what fails at its boundary (invalid or undecodable) and
// drops duplicates, counting both and reporting the invalid message on `faults$`.

import { Topics, type Twist, ValidationError } from '@telekit/core';
import type { TransportFault } from '@telekit/core/transport';
import { expect } from 'vitest';
import { collect, seqs, statsOf, type TransportKit } from './transport-kit.js';
import { battery, FRESH, twist } from './transport-kit-messages.js';

/** Registers the validation cases. */
export function validationCases({ test }: TransportKit): void {
  test('rejects an invalid message with an error naming the field', async (h, k) => {
    const bad = { ...twist(1), linear: { x: 'fast', y: 0, z: 0 } } as unknown as Twist;
    let error: unknown;
    try {
      h.publisher.publish(Topics.twist, bad);
    } catch (e) {
      error = e;
    }
    expect(error, 'publish throws a ValidationError at once').toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('linear.x');
    expect((error as ValidationError).message).toMatch(/linear\.x.*number/);
    expect((error as ValidationError).topic).toBe('/controller/twist');
    // And the transport still works.
    const feed = h.subscriber.subscribe(Topics.twist);
    const { got, sub } = collect(feed);
    await k.live(feed);
    h.publisher.publish(Topics.twist, twist(2, 0.1, FRESH));
    await k.delivered(feed, got, 2);
    sub.unsubscribe();
  });

  test(
    'refuses what fails at the boundary and drops duplicates, counting both',
    async (h, k) => {
      if (!h.sendRaw) return k.skip('the harness has no sendRaw');
      const feed = h.subscriber.subscribe(Topics.battery, { depth: 100 });
      const { got, sub } = collect(feed);
      const faults: TransportFault[] = [];
      const watch = h.subscriber.faults$.subscribe((f) => faults.push(f));
      await k.live(feed);
      const once = battery(1);
      await h.sendRaw(Topics.battery, { ...battery(2), voltage: 'high' });
      await h.sendRaw(Topics.battery, new Uint8Array([0xc1, 0xff, 0x00]));
      await h.sendRaw(Topics.battery, once);
      await h.sendRaw(Topics.battery, once);
      await h.sendRaw(Topics.battery, battery(3));
      await k.delivered(feed, got, 3);
      expect(seqs(got), 'the valid messages, each once').toBe('[1, 3]');
      await k.until(
        'the feed to count 2 refused and 1 duplicate',
        () => feed.stats().refused === 2 && feed.stats().duplicates === 1,
        () => `its counters: ${statsOf(feed)}`,
      );
      expect(faults, 'the invalid message is on faults$, naming the field').toContainEqual(
        expect.objectContaining({ code: 'E_VALIDATION', topic: Topics.battery.name, field: 'voltage' }),
      );
      watch.unsubscribe();
      sub.unsubscribe();
    },
    'remote',
  );
}
