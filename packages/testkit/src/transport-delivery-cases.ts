// The Transport kit's delivery cases: the subscriber reports connected, a feed is live while it has
// a subscriber and not without one, and a message arrives with its content intact and, from one
// publisher, in the order published.

import { type ConnectionState, Topics } from '@telekit/core';
import { filter } from 'rxjs';
import { expect } from 'vitest';
import { collect, isLive, type TransportKit } from './transport-kit.js';
import { battery, FRESH, settle, twist } from './transport-kit-messages.js';

let counter = 0;

/** Registers the delivery cases. */
export function deliveryCases({ test }: TransportKit): void {
  test('reports connected in state and on state$ once connected', async (h, k) => {
    const s = await k.first(
      `the subscriber's state$ to report connected`,
      h.subscriber.state$.pipe(filter((x: ConnectionState) => x.status === 'connected')),
      () => `its state is ${h.subscriber.state.status}`,
    );
    expect(typeof s.since).toBe('number');
    expect(h.subscriber.state.status, 'Transport.state is the current state').toBe('connected');
    let first: ConnectionState | undefined;
    h.subscriber.state$.subscribe((x) => (first ??= x)).unsubscribe();
    expect(first, 'state$ starts with the current state, at once').toEqual(h.subscriber.state);
  });

  test('a feed is live once it has a subscriber, and not without one', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.twist);
    expect(isLive(feed), 'live$ emits its current value at once: false before any subscriber').toBe(false);
    const { sub } = collect(feed);
    await k.live(feed);
    sub.unsubscribe();
    await k.first(
      `the feed of ${feed.topic.name} not to be live once its last subscriber left`,
      feed.live$.pipe(filter((live) => !live)),
    );
  });

  test('delivers a message with its content intact', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.twist);
    const { got, sub } = collect(feed);
    await k.live(feed);
    const sent = twist(counter++, 0.42, FRESH);
    h.publisher.publish(Topics.twist, sent);
    await k.delivered(feed, got, sent.header.seq);
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(sent);
    sub.unsubscribe();
  });

  test('keeps per-topic order from one publisher', async (h, k) => {
    const feed = h.subscriber.subscribe(Topics.battery, { depth: 1000 });
    const { got, sub } = collect(feed);
    await k.live(feed);
    for (let i = 0; i < 200; i++) {
      h.publisher.publish(Topics.battery, battery(i));
      if (i % 20 === 0) await settle(1);
    }
    await k.delivered(feed, got, 199);
    const s = got.map((m) => m.header.seq);
    expect(s, 'in the order published').toEqual([...s].sort((a, b) => a - b));
    expect(new Set(s).size, 'each once').toBe(s.length);
    sub.unsubscribe();
  });
}
