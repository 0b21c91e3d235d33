import {
  type ConnectionState,
  isTelekitError,
  type Topic,
  Topics,
  type Transport,
  type TransportCapabilities,
  type Twist,
  ValidationError,
} from '@telekit/core';
import { config, filter, firstValueFrom, type Subscription, timeout } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { type SkipEntry, skipReason } from './skips.js';

/**
 * Two ends of a transport under test. They may be the same object (an in-process transport) or a
 * server and a client of a remote one.
 */
export interface TransportHarness {
  /** The end that publishes. */
  readonly publisher: Transport;
  /** The end that subscribes (may equal `publisher`). */
  readonly subscriber: Transport;
  /** Breaks the link under the subscriber (kills the socket, stops the server) and restores it; for `reconnect`. */
  breakLink?(): Promise<void>;
  /** Closes both ends and whatever the harness started. */
  close(): Promise<void>;
}

/** Options of {@link describeTransport}. */
export interface DescribeTransportOptions {
  /** What the transport claims; cases needing an absent capability are skipped, saying so. */
  capabilities?: Partial<TransportCapabilities>;
  /** Cases to skip, with why. */
  skip?: readonly SkipEntry[];
  /** How long to wait for a delivery, ms. Default 2 000. */
  timeoutMs?: number;
}

let counter = 0;
const stamp = () => performance.timeOrigin + performance.now();

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

/**
 * The conformance kit for {@link Transport}: every implementation, the in-process reference
 * included, runs it and passes it.
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

  const test = (
    title: string,
    fn: (h: TransportHarness) => Promise<void>,
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
    it(title, async () => {
      const h = await makeHarness();
      try {
        await h.publisher.connect();
        if (h.subscriber !== h.publisher) await h.subscriber.connect();
        await fn(h);
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

  describe(`Transport conformance: ${name}`, () => {
    test('reports connected on state$ once connected', async (h) => {
      const s = await firstValueFrom(
        h.subscriber.state$.pipe(
          filter((x: ConnectionState) => x.status === 'connected'),
          timeout(wait),
        ),
      );
      expect(s.status).toBe('connected');
      expect(typeof s.since).toBe('number');
    });

    test('delivers a message with its content intact', async (h) => {
      const feed = h.subscriber.subscribe(Topics.twist);
      const { got, sub } = collect(feed);
      await settle();
      const sent = twist(counter++, 0.42);
      h.publisher.publish(Topics.twist, sent);
      await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: wait });
      expect(got[0]).toEqual(sent);
      sub.unsubscribe();
    });

    test('keeps per-topic order from one publisher', async (h) => {
      const feed = h.subscriber.subscribe(Topics.battery, { depth: 1000 });
      const { got, sub } = collect(feed);
      await settle();
      for (let i = 0; i < 200; i++) {
        h.publisher.publish(Topics.battery, battery(i));
        if (i % 20 === 0) await settle(1);
      }
      await vi.waitFor(() => expect(got.at(-1)?.header.seq).toBe(199), { timeout: wait });
      const seqs = got.map((m) => m.header.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      sub.unsubscribe();
    });

    test('control lane: latest value wins in a burst, in order, nothing invented', async (h) => {
      const feed = h.subscriber.subscribe(Topics.twist);
      const { got, sub } = collect(feed);
      await settle();
      for (let i = 0; i < 100; i++) h.publisher.publish(Topics.twist, twist(i, i / 100));
      await vi.waitFor(() => expect(got.at(-1)?.header.seq).toBe(99), { timeout: wait });
      await settle(50);
      const seqs = got.map((m) => m.header.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(got.length).toBeLessThanOrEqual(100);
      const stats = feed.stats();
      expect(stats.delivered).toBe(got.length);
      expect(stats.delivered + stats.superseded + stats.stale + stats.pending).toBe(stats.received);
      sub.unsubscribe();
    });

    test('control lane: drops a command past its deadline, delivers a fresh one', async (h) => {
      const feed = h.subscriber.subscribe(Topics.twist);
      const { got, sub } = collect(feed);
      await settle();
      h.publisher.publish(Topics.twist, twist(1, 0.5, { stamp: stamp() - 10_000, ttl: 100 }));
      await settle(20);
      h.publisher.publish(Topics.twist, twist(2, 0.6));
      await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: wait });
      expect(got[0]?.header.seq).toBe(2);
      // A remote transport may drop it before it reaches this subscriber; if it got here, it is counted.
      const stats = feed.stats();
      expect(stats.delivered + stats.stale + stats.superseded + stats.pending).toBe(stats.received);
      sub.unsubscribe();
    });

    test('telemetry lane: keep-last N with every loss counted', async (h) => {
      const feed = h.subscriber.subscribe(Topics.battery, { depth: 4 });
      const { got, sub } = collect(feed);
      await settle();
      for (let i = 0; i < 500; i++) h.publisher.publish(Topics.battery, battery(i));
      await vi.waitFor(() => expect(got.at(-1)?.header.seq).toBe(499), { timeout: wait });
      const stats = feed.stats();
      expect(stats.delivered).toBe(got.length);
      expect(stats.delivered + stats.dropped + stats.pending).toBe(stats.received);
      // Whatever the link did not deliver, the subscriber's counters account for.
      expect(stats.received).toBeLessThanOrEqual(500);
      const seqs = got.map((m) => m.header.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      sub.unsubscribe();
    });

    test('subscribers have their own mailboxes: a shallow one loses samples, a deep one none', async (h) => {
      const shallow = h.subscriber.subscribe(Topics.battery, { depth: 1 });
      const deep = h.subscriber.subscribe(Topics.battery, { depth: 1000 });
      const a = collect(shallow);
      const b = collect(deep);
      await settle();
      for (let i = 0; i < 300; i++) h.publisher.publish(Topics.battery, battery(i));
      await vi.waitFor(() => expect(b.got.at(-1)?.header.seq).toBe(299), { timeout: wait });
      await vi.waitFor(() => expect(a.got.at(-1)?.header.seq).toBe(299), { timeout: wait });
      expect(deep.stats().dropped).toBe(0);
      expect(shallow.stats().delivered + shallow.stats().dropped).toBe(shallow.stats().received);
      a.sub.unsubscribe();
      b.sub.unsubscribe();
    });

    test('a subscriber that throws does not stop delivery to the others', async (h) => {
      const thrown: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (e) => thrown.push(e);
      try {
        const bad = h.subscriber.subscribe(Topics.twist).subscribe(() => {
          throw new Error('subscriber bug');
        });
        const good = collect(h.subscriber.subscribe(Topics.twist));
        await settle();
        h.publisher.publish(Topics.twist, twist(1));
        await settle(20);
        h.publisher.publish(Topics.twist, twist(2));
        await vi.waitFor(() => expect(good.got.map((m) => m.header.seq)).toEqual([1, 2]), { timeout: wait });
        await vi.waitFor(() => expect(thrown.length).toBeGreaterThanOrEqual(1), { timeout: wait });
        bad.unsubscribe();
        good.sub.unsubscribe();
      } finally {
        config.onUnhandledError = previous;
      }
    });

    test('late subscriber: telemetry starts from the last sample, control replays nothing', async (h) => {
      const warm = [
        collect(h.subscriber.subscribe(Topics.battery)),
        collect(h.subscriber.subscribe(Topics.twist)),
      ];
      await settle();
      h.publisher.publish(Topics.battery, battery(7));
      h.publisher.publish(Topics.twist, twist(7));
      await vi.waitFor(() => expect(warm[0]!.got).toHaveLength(1), { timeout: wait });
      const lateTelemetry = collect(h.subscriber.subscribe(Topics.battery));
      const lateControl = collect(h.subscriber.subscribe(Topics.twist));
      await vi.waitFor(() => expect(lateTelemetry.got.map((m) => m.header.seq)).toEqual([7]), {
        timeout: wait,
      });
      await settle(50);
      expect(lateControl.got).toEqual([]);
      for (const w of [...warm, lateTelemetry, lateControl]) w.sub.unsubscribe();
    });

    test('rejects an invalid message with an error naming the field', async (h) => {
      const bad = { ...twist(1), linear: { x: 'fast', y: 0, z: 0 } } as unknown as Twist;
      let error: unknown;
      try {
        h.publisher.publish(Topics.twist, bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('linear.x');
      expect((error as ValidationError).message).toMatch(/linear\.x.*number/);
      expect((error as ValidationError).topic).toBe('/controller/twist');
      // And the transport still works.
      const { got, sub } = collect(h.subscriber.subscribe(Topics.twist));
      await settle();
      h.publisher.publish(Topics.twist, twist(2));
      await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: wait });
      sub.unsubscribe();
    });

    test('close completes feeds and state$, is safe twice, and refuses further use', async (h) => {
      let completed = false;
      let stateCompleted = false;
      h.subscriber.subscribe(Topics.twist).subscribe({ complete: () => (completed = true) });
      h.subscriber.state$.subscribe({ complete: () => (stateCompleted = true) });
      await h.subscriber.close();
      await h.subscriber.close();
      expect(completed).toBe(true);
      expect(stateCompleted).toBe(true);
      let publishError: unknown;
      try {
        h.subscriber.publish(Topics.twist, twist(1));
      } catch (e) {
        publishError = e;
      }
      expect(isTelekitError(publishError) && publishError.code).toBe('E_TRANSPORT_CLOSED');
      const subscribeError = await new Promise<unknown>((resolve) =>
        h.subscriber
          .subscribe(Topics.twist)
          .subscribe({ error: resolve, complete: () => resolve(undefined) }),
      );
      expect(isTelekitError(subscribeError) && subscribeError.code).toBe('E_TRANSPORT_CLOSED');
    });

    // Made without the per-case harness, so that nothing else holds timers while it counts them.
    it('leaves no timers behind once feeds are dropped and the transport is closed', {
      timeout: wait * 3,
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
      // Poll by hand: vi.waitFor's own timers would be counted.
      const deadline = Date.now() + wait;
      while (activeTimers() > before && Date.now() < deadline) await settle(50);
      expect(activeTimers(), `active resources: ${activeResources().join(', ')}`).toBeLessThanOrEqual(before);
    });

    test(
      'reconnects by itself and resumes delivery on existing feeds',
      async (h) => {
        const { got, sub } = collect(h.subscriber.subscribe(Topics.battery, { depth: 100 }));
        await settle();
        h.publisher.publish(Topics.battery, battery(1));
        await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: wait });
        const statuses: string[] = [];
        const watch = h.subscriber.state$.subscribe((s) => statuses.push(s.status));
        await h.breakLink!();
        await firstValueFrom(
          h.subscriber.state$.pipe(
            filter((s) => s.status !== 'connected'),
            timeout(wait * 5),
          ),
        );
        await firstValueFrom(
          h.subscriber.state$.pipe(
            filter((s) => s.status === 'connected'),
            timeout(wait * 5),
          ),
        );
        expect(
          statuses.some((s) => s === 'reconnecting' || s === 'disconnected'),
          statuses.join(' → '),
        ).toBe(true);
        await vi.waitFor(
          () => {
            h.publisher.publish(Topics.battery, battery(2));
            expect(got.some((m) => m.header.seq === 2)).toBe(true);
          },
          { timeout: wait * 5, interval: 100 },
        );
        watch.unsubscribe();
        sub.unsubscribe();
      },
      'reconnect',
    );
  });
}

/** The topics the kit uses, for transports that need them registered up front. */
export const transportKitTopics: readonly Topic[] = [Topics.twist as Topic, Topics.battery as Topic];
