// The machinery every case of the Transport kit runs on: the harness a transport hands the kit,
// the per-case wrapper (a fresh harness, both ends connected, closed however the case ends, skips
// by capability or by `skip`), and the waits that fail saying what was expected and what happened
// (the topic, the states the link went through, the feed's counters). The cases themselves live in
// the `transport-*-cases.ts` modules that `describeTransport` composes.

import type { ConnectionState, Feed, Topic, Transport } from '@telekit/core';
import type { TransportCapabilities } from '@telekit/core/transport';
import { filter, type Observable, type Subscription } from 'rxjs';
import { it } from 'vitest';
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

/** Whether a feed is live now (its `live$` emits the current value at once). */
export function isLive(feed: Feed<unknown>): boolean | undefined {
  let live: boolean | undefined;
  feed.live$.subscribe((v) => (live ??= v)).unsubscribe();
  return live;
}

export const seqs = (got: readonly { header: { seq: number } }[]) =>
  `[${got.map((m) => m.header.seq).join(', ')}]`;
export const statsOf = (feed: Feed<unknown>) =>
  Object.entries(feed.stats())
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
export const history = (states: readonly ConnectionState[]) =>
  states.map((s) => s.status + (s.reason ? ` (${s.reason})` : '')).join(' → ');

/** Subscribes to `feed` and collects what it delivers. */
export const collect = <T>(feed: { subscribe(f: (v: T) => void): Subscription }) => {
  const got: T[] = [];
  const sub = feed.subscribe((v) => got.push(v));
  return { got, sub };
};

/** What a case gets besides the harness: waits that say what they expected and what happened. */
export interface KitCase {
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

/** What a group of cases registers its cases with. */
export interface TransportKit {
  /** How long to wait for one thing to happen, ms. */
  readonly wait: number;
  /** A case's vitest timeout, ms. */
  readonly caseTimeout: number;
  /** Makes a harness, for the case that cannot use the per-case one. */
  readonly makeHarness: () => Promise<TransportHarness>;
  /**
   * Registers a case: it gets a fresh harness with both ends connected, closed when it ends; it is
   * skipped, saying why, when `skip` names it or the transport lacks `capability`.
   */
  test(
    title: string,
    fn: (h: TransportHarness, k: KitCase) => Promise<void>,
    capability?: keyof TransportCapabilities,
  ): void;
}

/** Builds the machinery of the suite `suite`. */
export function transportKit(setup: {
  suite: string;
  makeHarness: () => Promise<TransportHarness>;
  wait: number;
  capabilities: Partial<TransportCapabilities>;
  skip: readonly SkipEntry[] | undefined;
}): TransportKit {
  const { suite, makeHarness, wait, capabilities: caps } = setup;
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

  const test: TransportKit['test'] = (title, fn, capability) => {
    const reason = skipReason(
      title,
      setup.skip,
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

  return { wait, caseTimeout, makeHarness, test };
}
