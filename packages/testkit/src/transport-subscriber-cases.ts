// The Transport kit's cases about subscribers being independent of one another: each has its own
// mailbox, one that throws does not stop delivery to the others, and one that comes late gets the
// last telemetry sample but no old command.

import { Topics } from '@telekit/core';
import { config } from 'rxjs';
import { expect } from 'vitest';
import { collect, seqs, statsOf, type TransportKit } from './transport-kit.js';
import { battery, FRESH, settle, twist } from './transport-kit-messages.js';

/** Registers the cases about independent subscribers. */
export function subscriberCases({ test }: TransportKit): void {
  test('subscribers have their own mailboxes: a shallow one loses samples, a deep one none', async (h, k) => {
    const shallow = h.subscriber.subscribe(Topics.battery, { depth: 1 });
    const deep = h.subscriber.subscribe(Topics.battery, { depth: 1000 });
    const a = collect(shallow);
    const b = collect(deep);
    await k.live(shallow);
    await k.live(deep);
    for (let i = 0; i < 300; i++) h.publisher.publish(Topics.battery, battery(i));
    await k.delivered(deep, b.got, 299);
    await k.delivered(shallow, a.got, 299);
    expect(deep.stats().dropped, `the deep feed: ${statsOf(deep)}`).toBe(0);
    expect(shallow.stats().delivered + shallow.stats().dropped, statsOf(shallow)).toBe(
      shallow.stats().received,
    );
    a.sub.unsubscribe();
    b.sub.unsubscribe();
  });

  test('a subscriber that throws does not stop delivery to the others', async (h, k) => {
    // On the telemetry lane, so that no sample is superseded however the link batches them.
    const thrown: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (e) => thrown.push(e);
    try {
      const badFeed = h.subscriber.subscribe(Topics.battery);
      let badCalls = 0;
      const bad = badFeed.subscribe(() => {
        badCalls++;
        throw new Error('subscriber bug');
      });
      const feed = h.subscriber.subscribe(Topics.battery);
      const good = collect(feed);
      await k.live(badFeed);
      await k.live(feed);
      h.publisher.publish(Topics.battery, battery(1));
      await settle(20);
      h.publisher.publish(Topics.battery, battery(2));
      await k.delivered(feed, good.got, 2);
      expect(seqs(good.got)).toBe('[1, 2]');
      bad.unsubscribe();
      good.sub.unsubscribe();
      // rxjs reports each throw a moment later: all of them, before the handler is put back.
      await k.until(
        'every error the throwing subscriber threw to reach rxjs’s onUnhandledError',
        () => badCalls >= 1 && thrown.length === badCalls,
        () => `the subscriber threw ${badCalls} times, ${thrown.length} reached the handler`,
      );
    } finally {
      config.onUnhandledError = previous;
    }
  });

  test('late subscriber: telemetry starts from the last sample, control replays nothing', async (h, k) => {
    const warmFeeds = [h.subscriber.subscribe(Topics.battery), h.subscriber.subscribe(Topics.twist)] as const;
    const warm = [collect(warmFeeds[0]), collect(warmFeeds[1])] as const;
    for (const f of warmFeeds) await k.live(f);
    h.publisher.publish(Topics.battery, battery(7));
    h.publisher.publish(Topics.twist, twist(7, 0.1, FRESH));
    await k.delivered(warmFeeds[0], warm[0].got, 7);
    await k.delivered(warmFeeds[1], warm[1].got, 7);
    const lateFeed = h.subscriber.subscribe(Topics.battery);
    const lateTelemetry = collect(lateFeed);
    const lateControl = collect(h.subscriber.subscribe(Topics.twist));
    await k.until(
      `the late subscriber of ${Topics.battery.name} to start from the last sample (seq 7)`,
      () => seqs(lateTelemetry.got) === '[7]',
      () => `it received ${seqs(lateTelemetry.got)}; its counters: ${statsOf(lateFeed)}`,
    );
    await settle(50);
    expect(seqs(lateControl.got), 'a late subscriber to a control topic gets no old command').toBe('[]');
    for (const w of [...warm, lateTelemetry, lateControl]) w.sub.unsubscribe();
  });
}
