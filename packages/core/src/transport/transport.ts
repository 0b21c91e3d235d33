import type { Observable } from 'rxjs';
import type { Topic } from '../schemas/topic.js';

/** The state of a transport's link. */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'closed';

/** A transport's link state, as `state$` reports it. */
export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** When it entered this state, ms. */
  readonly since: number;
  /** Why (for `disconnected`, `reconnecting` and `closed`). */
  readonly reason?: string;
}

/** What an implementation supports; the conformance kit skips cases that need what is absent. */
export interface TransportCapabilities {
  /** Restores the link and the subscriptions by itself after losing it. */
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

/** Per-subscription counters. `received = delivered + dropped + superseded + stale + pending`. */
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
}

/**
 * A topic's messages for one subscriber. It is an `Observable` (subscribe to it as usual; all
 * subscriptions to one feed share one mailbox) with counters of what the lane did to it.
 */
export interface Feed<T> extends Observable<T> {
  readonly topic: Topic<T>;
  stats(): Readonly<FeedStats>;
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
 *
 * Implementations prove themselves with `describeTransport` from `@telekit/testkit`.
 */
export interface Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** The link state, starting with the current one. Completes after `closed`. */
  readonly state$: Observable<ConnectionState>;
  /** Opens the link; resolves once connected. */
  connect(): Promise<void>;
  /**
   * Publishes a message. Throws a `ValidationError` naming the field when it does not match the
   * topic's schema, and a `TelekitError` `E_TRANSPORT_CLOSED` after `close()`. While the link is
   * down, a control command is dropped (a command is for now) and telemetry is kept as last value.
   */
  publish<T>(topic: Topic<T>, message: T): void;
  /** A feed of a topic's messages. Completes when the transport closes. */
  subscribe<T>(topic: Topic<T>, options?: SubscribeOptions): Feed<T>;
  /** Closes the link and completes every feed. Safe to call twice. */
  close(): Promise<void>;
}
