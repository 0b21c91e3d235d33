import {
  type ConnectionState,
  type Feed,
  isTelekitError,
  type Topic,
  Topics,
  type Transport,
  type Twist,
  ValidationError,
} from '@telekit/core';
import type { TransportCapabilities, TransportFault } from '@telekit/core/transport';
import { config, filter, type Observable, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { eventually, firstWithin, type SkipEntry, skipReason, within } from './skips.js';

/**
 * Two ends of a transport under test. They may be the same object (an in-process transport) or a
 * server and a client of a remote one.
 */
export interface TransportHarness {
  /** The end that publishes. */
  readonly publisher: Transport;
  /** The end that subscribes (may equal `publisher`). */
  readonly subscriber: Transport;
  /**
   * Breaks the link under the subscriber (kills the socket, restarts the broker) and restores it or
   * lets it come back; for `reconnect`. The transport may be connected again before this resolves:
   * the kit judges the states it went through, not the one it is in.
   */
  breakLink?(): Promise<void>;
  /**
   * Sends `data` on `topic` towards the subscriber as a foreign publisher would, past any
   * publisher-side validation: a `Uint8Array` or a string goes on the wire as it is, anything else
   * in the transport's encoding. Resolves once it was handed to the wire. For the boundary case of
   * `remote` transports; without it that case is skipped, saying so.
   */
  sendRaw?(topic: Topic, data: unknown): Promise<void>;
  /** Closes both ends and whatever the harness started. */
  close(): Promise<void>;
}

/** Options of {@link describeTransport}. */
export interface DescribeTransportOptions {
  /** What the transport claims; cases needing an absent capability are skipped, saying so. */
  capabilities?: Partial<TransportCapabilities>;
  /** Cases to skip, with why. */
  skip?: readonly SkipEntry[];
  /**
   * How long to wait for one thing to happen (a delivery, a state, a feed going live), ms. Default
   * 2 000. A case may wait for several; a reconnect waits for up to five times as long.
   */
  timeoutMs?: number;
}

let counter = 0;
const stamp = () => performance.timeOrigin + performance.now();
// Commands of the cases that are not about deadlines outlive a loaded machine and a slow link.
const FRESH = { ttl: 10_000 } as const;

/** Builds a valid twist with the given sequence number and forward speed. */
export function twist(
  seq: number,
  x = 0.1,
  options: { stamp?: number; ttl?: number; sender?: string } = {},
): Twist {
  return {
    header: {
      seq,
      stamp: options.stamp ?? stamp(),
      sender: options.sender ?? 'kit',
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    },
    linear: { x, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: 0 },
  };
}

/** Builds a valid battery sample with the given sequence number. */
export function battery(seq: number) {
  return {
    header: { seq, stamp: stamp(), sender: 'kit' },
    percentage: (seq % 100) / 100,
    voltage: 24,
    charging: false,
  };
}

/** Lets everything scheduled so far (microtasks, then one macrotask turn) run. */
export async function settle(ms = 10): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

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

/** Whether a feed is live now (its `live$` emits the current value at once). */
function isLive(feed: Feed<unknown>): boolean | undefined {
  let live: boolean | undefined;
  feed.live$.subscribe((v) => (live ??= v)).unsubscribe();
  return live;
}

const seqs = (got: readonly { header: { seq: number } }[]) => `[${got.map((m) => m.header.seq).join(', ')}]`;
const statsOf = (feed: Feed<unknown>) =>
  Object.entries(feed.stats())
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const history = (states: readonly ConnectionState[]) =>
  states.map((s) => s.status + (s.reason ? ` (${s.reason})` : '')).join(' → ');

/** What a case gets besides the harness: waits that say what they expected and what happened. */
interface KitCase {
  readonly where: string;
  /** Waits until `probe` holds (returns a value or stops throwing). */
  until<T>(
    expected: string,
    probe: () => T | undefined | null | false,
    happened?: () => string,
    timeoutMs?: number,
  ): Promise<T>;
  /** The first value of `source`, filtered first. */
  first<T>(expected: string, source: Observable<T>, happened?: () => string, timeoutMs?: number): Promise<T>;
  /** Waits until the subscriber's `feed` is live. */
  live(feed: Feed<unknown>, timeoutMs?: number): Promise<void>;
  /** Waits until `got` has a message with `seq`, describing the feed if not. */
  delivered(
    feed: Feed<unknown>,
    got: readonly { header: { seq: number } }[],
    seq: number,
    timeoutMs?: number,
  ): Promise<void>;
  /** Skips the rest of the case, saying why. */
  skip(reason: string): void;
}

/**
 * The conformance kit for {@link Transport}: every implementation, the in-process reference
 * included, runs it and passes it. A failure names the case and says what was expected and what
 * happened (the topic, the states the link went through, the feed's counters), never a bare timeout.
 *
 * The kit waits for each feed to be live (`Feed.live$`) before it publishes, as the contract says a
 * subscriber should; the cases with `breakLink` and `sendRaw` run where the harness offers them.
 *
 * @example
 * ```ts
 * import { inProcessTransport } from '@telekit/core';
 * import { describeTransport } from '@telekit/testkit';
 * describeTransport('in-process', async () => {
 *   const t = inProcessTransport();
 *   return { publisher: t, subscriber: t, close: () => t.close() };
 * });
 * ```
 */
export function describeTransport(
  name: string,
  makeHarness: () => Promise<TransportHarness>,
  options: DescribeTransportOptions = {},
): void {
  const wait = options.timeoutMs ?? 2_000;
  const caps = options.capabilities ?? {};
  const suite = `Transport conformance: ${name}`;
  // Above the sum of a case's own waits, so that the kit's description, not vitest's, is the failure.
  const caseTimeout = 30_000 + wait * 30;

  const connect = async (where: string, h: TransportHarness) => {
    for (const [role, t] of [
      ['publisher', h.publisher],
      ['subscriber', h.subscriber],
    ] as const) {
      if (role === 'subscriber' && t === h.publisher) continue;
      await within(where, `the ${role}'s connect() to resolve`, t.connect(), wait * 5, () => {
        return `it is still ${t.state.status}${t.state.reason ? ` (${t.state.reason})` : ''}`;
      });
    }
  };

  const kitCase = (where: string, h: TransportHarness, skip: (reason: string) => void): KitCase => {
    const k: KitCase = {
      where,
      until: (expected, probe, happened, timeoutMs = wait) =>
        eventually(where, { expected, probe, timeoutMs, ...(happened ? { happened } : {}) }),
      first: (expected, source, happened, timeoutMs = wait) =>
        firstWithin(where, expected, source, timeoutMs, happened),
      live: async (feed, timeoutMs = wait) => {
        await k.first(
          `the subscriber's feed of ${feed.topic.name} to become live (live$ true)`,
          feed.live$.pipe(filter(Boolean)),
          () =>
            `live$ stayed false; the subscriber is ${h.subscriber.state.status}, the feed's counters: ${statsOf(feed)}`,
          timeoutMs,
        );
      },
      delivered: async (feed, got, seq, timeoutMs = wait) => {
        await k.until(
          `the subscriber to receive seq ${seq} on ${feed.topic.name}`,
          () => got.some((m) => m.header.seq === seq),
          () =>
            `it received ${seqs(got)}; the feed is ${isLive(feed) ? 'live' : 'not live'}, its counters: ${statsOf(feed)}; the subscriber is ${h.subscriber.state.status}`,
          timeoutMs,
        );
      },
      skip,
    };
    return k;
  };

  const test = (
    title: string,
    fn: (h: TransportHarness, k: KitCase) => Promise<void>,
    capability?: keyof TransportCapabilities,
  ) => {
    const reason = skipReason(
      title,
      options.skip,
      capability !== undefined && caps[capability] !== true && capability,
    );
    if (reason) {
      it.skip(`${title} (skipped: ${reason})`, () => {});
      return;
    }
    it(title, { timeout: caseTimeout }, async (ctx) => {
      const where = `${suite} › ${title}`;
      const h = await within(where, 'the harness to be made', makeHarness(), 30_000);
      try {
        await connect(where, h);
        await fn(
          h,
          kitCase(where, h, (why) => ctx.skip(why)),
        );
      } finally {
        await h.close();
      }
    });
  };

  const collect = <T>(feed: { subscribe(f: (v: T) => void): Subscription }) => {
    const got: T[] = [];
    const sub = feed.subscribe((v) => got.push(v));
    return { got, sub };
  };

  describe(suite, () => {
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
      const warmFeeds = [
        h.subscriber.subscribe(Topics.battery),
        h.subscriber.subscribe(Topics.twist),
      ] as const;
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
        h.subscriber
          .subscribe(Topics.twist)
          .subscribe({ error: resolve, complete: () => resolve(undefined) }),
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
  });
}

/** The topics the kit uses, for transports that need them registered up front. */
export const transportKitTopics: readonly Topic[] = [Topics.twist as Topic, Topics.battery as Topic];
