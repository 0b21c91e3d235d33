import type { Observable } from 'rxjs';
import type { Topic } from '../schemas/topic.js';

/**
 * The state of a transport's link. A transport moves through them like this:
 *
 * ```text
 * idle ─connect()→ connecting ─→ connected ⇄ reconnecting
 *                      │             │            │
 *                      └──────→ disconnected ←────┘      any ─close()→ closed
 * ```
 *
 * - `idle`: made; `connect()` was not called yet. Nothing is sent or received.
 * - `connecting`: `connect()` was called and the first connection is not up yet (attempts may be
 *   repeated: the transport is trying by itself).
 * - `connected`: the link is up. Publishes go out; each feed is live once its subscription is
 *   acknowledged (see {@link Feed.live$}).
 * - `reconnecting`: the link was up and was lost, and the transport is trying to restore it **by
 *   itself** (only with `capabilities.reconnect`). Feeds stay open and resume once it is back.
 * - `disconnected`: the link is down and the transport is **not** trying: it gave up (its attempts
 *   ran out, or the other side refused for good, e.g. a bad token) or it was told to stop (the
 *   server sent it away). Feeds stay open; only `connect()` tries again.
 * - `closed`: `close()` was called. Final: `state$` completes.
 *
 * While not `connected`, a control command is dropped (reported on {@link Transport.faults$} as
 * `E_NOT_CONNECTED`) and telemetry is kept as the last value per topic, sent once the link is back.
 */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'closed';

/** A transport's link state, as `state` and `state$` report it. */
export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** When it entered this state, ms. */
  readonly since: number;
  /** Why (for `disconnected`, `reconnecting` and `closed`). */
  readonly reason?: string;
}

/** What an implementation supports; the conformance kit skips cases that need what is absent. */
export interface TransportCapabilities {
  /** Restores the link and the subscriptions by itself after losing it (and says `reconnecting` meanwhile). */
  readonly reconnect: boolean;
  /** Crosses a process or network boundary (and so validates what arrives). */
  readonly remote: boolean;
}

/** Options of {@link Transport.subscribe}. */
export interface SubscribeOptions {
  /** Telemetry lane: how many samples to keep while the subscriber lags. Default: the topic's depth. */
  depth?: number;
  /** Control lane: the deadline of commands without their own `ttl`, ms. Default: the topic's ttl. */
  ttl?: number;
}

/**
 * Per-subscription counters. `received = delivered + dropped + superseded + stale + pending`;
 * `refused` and `duplicates` never reached the mailbox, so they are not part of `received`.
 */
export interface FeedStats {
  /** Messages that reached this subscriber's mailbox. */
  received: number;
  /** Messages handed to the subscriber. */
  delivered: number;
  /** Telemetry samples pushed out of a full mailbox (the subscriber lagged). */
  dropped: number;
  /** Control commands replaced by a newer one before delivery (latest value wins). */
  superseded: number;
  /** Control commands past their deadline at delivery. */
  stale: number;
  /** Waiting in the mailbox now. */
  pending: number;
  /**
   * Messages on this topic that arrived from outside while this feed was open and were refused at
   * the boundary: undecodable, or not matching the topic's schema (each one is also on
   * {@link Transport.faults$}).
   */
  refused: number;
  /**
   * Messages on this topic that arrived while this feed was open and were copies of one already
   * received (same `header.sender`, `header.seq` and `header.stamp`), as a broker's redelivery or
   * a re-sent retained sample makes them. Dropped, never delivered twice.
   */
  duplicates: number;
}

/**
 * A topic's messages for one subscriber. It is an `Observable` (subscribe to it as usual; all
 * subscriptions to one feed share one mailbox) with counters of what the lane did to it.
 *
 * A feed starts receiving when it gets its first subscriber: a remote transport then asks the other
 * side for the topic. It is **live** once the other side has acknowledged that: from then on, every
 * message a connected publisher sends on the topic reaches it. Wait for it before relying on
 * delivery (a test, a request that expects an answer on a topic):
 *
 * @example
 * ```ts
 * import { filter, firstValueFrom } from 'rxjs';
 * import { inProcessTransport, Topics } from '@telekit/core';
 * const transport = inProcessTransport();
 * const feed = transport.subscribe(Topics.battery);
 * feed.subscribe((b) => console.log(b.percentage));
 * await firstValueFrom(feed.live$.pipe(filter(Boolean)));
 * ```
 */
export interface Feed<T> extends Observable<T> {
  readonly topic: Topic<T>;
  /**
   * Whether the feed is live: it has a subscriber, the link is connected, and the other side has
   * acknowledged the topic's subscription. Emits the current value first, then every change: false
   * while the link is down, true again once re-subscribed after a reconnect. An in-process feed is
   * live as soon as it has a subscriber. Completes when the transport closes.
   */
  readonly live$: Observable<boolean>;
  stats(): Readonly<FeedStats>;
}

/**
 * Something that went wrong after the call that caused it returned: a message that could not be
 * sent (`E_NOT_CONNECTED`, or the other side's refusal such as `E_FORBIDDEN` or `E_RATE_LIMITED`), or
 * one that arrived and was refused at the boundary (`E_VALIDATION`, `E_PROTOCOL`). Codes are from
 * core's `errorCodes` or a plugin's own.
 */
export interface TransportFault {
  readonly code: string;
  /** Lower case, with context, like a `TelekitError`'s. */
  readonly message: string;
  /** The topic concerned, when one is. */
  readonly topic?: string;
  /** The offending field's path, for a validation failure. */
  readonly field?: string;
}

/**
 * The transport contract: typed topics published and subscribed as RxJS streams, with the lane's
 * delivery rules.
 *
 * - **control** lane: latest value wins; a command past its deadline (`header.ttl` or the topic's)
 *   is dropped at delivery; a late subscriber gets no old command.
 * - **telemetry** lane: each subscriber keeps the last N samples while it lags and counts the ones
 *   it loses; a slow subscriber never slows the publisher or another subscriber; a late subscriber
 *   gets the last sample.
 * - `publish` never runs subscriber code: delivery is always asynchronous.
 * - Per topic, messages from one publisher arrive in the order they were published.
 * - A subscription is live once the other side acknowledged it ({@link Feed.live$}); messages
 *   published before that may or may not arrive.
 * - Failures that happen after a call returned are reported on {@link Transport.faults$}; a
 *   remote transport validates what arrives and counts what it refuses ({@link FeedStats.refused}).
 *
 * Implementations prove themselves with `describeTransport` from `@telekit/testkit`. A transport
 * over a network or a broker is easiest to write with {@link defineTransport}.
 */
export interface Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** The link state now (the last value `state$` emitted). */
  readonly state: ConnectionState;
  /** The link state, starting with the current one. Completes after `closed`. */
  readonly state$: Observable<ConnectionState>;
  /**
   * Failures after the fact: sends the link could not carry or the other side refused, and
   * messages refused at the boundary. Hot (no replay); completes when the transport closes.
   */
  readonly faults$: Observable<TransportFault>;
  /**
   * Opens the link; resolves once connected. Rejects when the transport gives up (then it is
   * `disconnected`) or is closed.
   */
  connect(): Promise<void>;
  /**
   * Publishes a message. Throws a `ValidationError` naming the field when it does not match the
   * topic's schema, and a `TelekitError` `E_TRANSPORT_CLOSED` after `close()`: what can be known at
   * once is thrown. What goes wrong later (the link is down, the write fails, the other side
   * refuses) is reported on {@link Transport.faults$}. While the link is down, a control command is
   * dropped (a command is for now) and telemetry is kept as last value.
   */
  publish<T>(topic: Topic<T>, message: T): void;
  /** A feed of a topic's messages. Completes when the transport closes. */
  subscribe<T>(topic: Topic<T>, options?: SubscribeOptions): Feed<T>;
  /** Closes the link and completes every feed, `state$` and `faults$`. Safe to call twice. */
  close(): Promise<void>;
}
