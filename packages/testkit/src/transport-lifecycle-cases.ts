// The Transport kit's lifecycle cases: `close` completes every stream, is safe twice and refuses
// further use; a closed transport leaves no timers behind; and a transport with `reconnect` comes
// back by itself after its link breaks and resumes delivery on the feeds it had.

import { type ConnectionState, isTelekitError, Topics } from '@telekit/core';
import { filter } from 'rxjs';
import { expect, it } from 'vitest';
import { within } from './skips.js';
import { collect, history, seqs, statsOf, type TransportKit } from './transport-kit.js';
import { battery, settle, twist } from './transport-kit-messages.js';

function activeResources(): string[] {
  return (
    (
      globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }
    ).process?.getActiveResourcesInfo?.() ?? []
  );
}

function activeTimers(): number {
  // Node only; elsewhere the leak check has nothing to count.
  const info = (
    globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }
  ).process?.getActiveResourcesInfo?.();
  return (info ?? []).filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

/** Registers the lifecycle cases. */
export function lifecycleCases({ test, wait, caseTimeout, makeHarness }: TransportKit): void {
  test('close completes feeds, live$, state$ and faults$, is safe twice, and refuses further use', async (h) => {
    const completed = { feed: false, live: false, state: false, faults: false };
    const feed = h.subscriber.subscribe(Topics.twist);
    feed.subscribe({ complete: () => (completed.feed = true) });
    feed.live$.subscribe({ complete: () => (completed.live = true) });
    h.subscriber.state$.subscribe({ complete: () => (completed.state = true) });
    h.subscriber.faults$.subscribe({ complete: () => (completed.faults = true) });
    await h.subscriber.close();
    await h.subscriber.close();
    expect(completed, 'every stream completes on close').toEqual({
      feed: true,
      live: true,
      state: true,
      faults: true,
    });
    expect(h.subscriber.state.status).toBe('closed');
    let publishError: unknown;
    try {
      h.subscriber.publish(Topics.twist, twist(1));
    } catch (e) {
      publishError = e;
    }
    expect(isTelekitError(publishError) && publishError.code, 'publish after close').toBe(
      'E_TRANSPORT_CLOSED',
    );
    const subscribeError = await new Promise<unknown>((resolve) =>
      h.subscriber.subscribe(Topics.twist).subscribe({ error: resolve, complete: () => resolve(undefined) }),
    );
    expect(isTelekitError(subscribeError) && subscribeError.code, 'subscribe after close').toBe(
      'E_TRANSPORT_CLOSED',
    );
  });

  // Made without the per-case harness, so that nothing else holds timers while it counts them.
  it('leaves no timers behind once feeds are dropped and the transport is closed', {
    timeout: caseTimeout,
  }, async () => {
    await settle();
    const before = activeTimers();
    const h = await makeHarness();
    await h.publisher.connect();
    if (h.subscriber !== h.publisher) await h.subscriber.connect();
    const subs = [
      h.subscriber.subscribe(Topics.twist).subscribe(),
      h.subscriber.subscribe(Topics.battery).subscribe(),
    ];
    h.publisher.publish(Topics.twist, twist(1));
    h.publisher.publish(Topics.battery, battery(1));
    await settle();
    for (const s of subs) s.unsubscribe();
    await h.close();
    // Poll by hand: the kit's own waits would be counted.
    const deadline = Date.now() + wait;
    while (activeTimers() > before && Date.now() < deadline) await settle(50);
    expect(activeTimers(), `active resources: ${activeResources().join(', ')}`).toBeLessThanOrEqual(before);
  });

  test(
    'reconnects by itself and resumes delivery on existing feeds',
    async (h, k) => {
      if (!h.breakLink) return k.skip('the harness has no breakLink');
      const feed = h.subscriber.subscribe(Topics.battery, { depth: 100 });
      const { got, sub } = collect(feed);
      await k.live(feed);
      h.publisher.publish(Topics.battery, battery(1));
      await k.delivered(feed, got, 1);
      // Everything the subscriber goes through from here, so that a transport that is back before
      // the kit looks still passes: the kit judges the states it went through, not the current one.
      const states: ConnectionState[] = [];
      const lives: boolean[] = [];
      const watch = [
        h.subscriber.state$.subscribe((s) => states.push(s)),
        feed.live$.subscribe((v) => lives.push(v)),
      ];
      await within(k.where, 'breakLink() to resolve', h.breakLink(), wait * 5);
      await k.until(
        `the subscriber's state$ to go through reconnecting (it is trying by itself) and back to connected after breakLink()`,
        () => {
          const lost = states.findIndex((s) => s.status === 'reconnecting');
          return lost >= 0 && states.slice(lost).some((s) => s.status === 'connected');
        },
        () => `it went through ${history(states)}`,
        wait * 5,
      );
      expect(lives.slice(1), 'live$ goes false while the link is down').toContain(false);
      await k.live(feed, wait * 5);
      await k.first(
        'the publisher to be connected',
        h.publisher.state$.pipe(filter((s) => s.status === 'connected')),
        () => `the publisher is ${h.publisher.state.status}`,
        wait * 5,
      );
      // Published again and again: a publisher of its own link may learn of the break late.
      let seq = 2;
      let polls = 0;
      await k.until(
        `the subscriber to receive battery samples published after the reconnect`,
        () => {
          if (got.some((m) => m.header.seq >= 2)) return true;
          if (polls++ % 10 === 0) h.publisher.publish(Topics.battery, battery(seq++));
          return false;
        },
        () =>
          `it received ${seqs(got)} (published up to seq ${seq - 1}); the feed's counters: ${statsOf(feed)}; the subscriber went through ${history(states)}`,
        wait * 5,
      );
      for (const w of watch) w.unsubscribe();
      sub.unsubscribe();
    },
    'reconnect',
  );
}
