// The Transport kit's backpressure cases, one per lane rule: on the control lane the latest value
// wins in a burst and a command past its deadline is dropped; on the telemetry lane a subscriber
// keeps the last N samples; and every message a feed received is accounted for in its counters.

import { Topics } from '@telekit/core';
import { expect } from 'vitest';
import { collect, seqs, statsOf, type TransportKit } from './transport-kit.js';
import { battery, FRESH, settle, stamp, twist } from './transport-kit-messages.js';

/** Registers the lane (backpressure) cases. */
export function laneCases({ test }: TransportKit): void {
  test('control lane: latest value wins in a burst, in order, nothing invented', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.twist);
    const { got, sub } = collect(feed);
    await k.live(feed);
    for (let i = 0; i < 100; i++) h.publisher.publish(Topics.twist, twist(i, i / 100, FRESH));
    await k.delivered(feed, got, 99);
    await settle(50);
    const s = got.map((m) => m.header.seq);
    expect(s, 'in the order published').toEqual([...s].sort((a, b) => a - b));
    expect(got.length).toBeLessThanOrEqual(100);
    const stats = feed.stats();
    expect(stats.delivered, 'delivered counts what the subscriber got').toBe(got.length);
    expect(stats.delivered + stats.superseded + stats.stale + stats.pending, statsOf(feed)).toBe(
      stats.received,
    );
    sub.unsubscribe();
  });

  test('control lane: drops a command past its deadline, delivers a fresh one', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.twist);
    const { got, sub } = collect(feed);
    await k.live(feed);
    h.publisher.publish(Topics.twist, twist(1, 0.5, { stamp: stamp() - 10_000, ttl: 100 }));
    await settle(20);
    h.publisher.publish(Topics.twist, twist(2, 0.6, FRESH));
    await k.delivered(feed, got, 2);
    expect(seqs(got), 'only the fresh command').toBe('[2]');
    // A remote transport may drop it before it reaches this subscriber; if it got here, it is counted.
    const stats = feed.stats();
    expect(stats.delivered + stats.stale + stats.superseded + stats.pending, statsOf(feed)).toBe(
      stats.received,
    );
    sub.unsubscribe();
  });

  test('telemetry lane: keep-last N with every loss counted', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.battery, { depth: 4 });
    const { got, sub } = collect(feed);
    await k.live(feed);
    for (let i = 0; i < 500; i++) h.publisher.publish(Topics.battery, battery(i));
    await k.delivered(feed, got, 499);
    const stats = feed.stats();
    expect(stats.delivered, 'delivered counts what the subscriber got').toBe(got.length);
    expect(stats.delivered + stats.dropped + stats.pending, statsOf(feed)).toBe(stats.received);
    // Whatever the link did not deliver, the subscriber's counters account for.
    expect(stats.received).toBeLessThanOrEqual(500);
    const s = got.map((m) => m.header.seq);
    expect(s, 'in the order published').toEqual([...s].sort((a, b) => a - b));
    sub.unsubscribe();
  });
}
