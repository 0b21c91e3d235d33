import { Subject } from 'rxjs';
import { type Clock, systemClock } from '../clock.js';
import { TelekitError } from '../errors.js';
import type { Topic } from '../schemas/topic.js';
import { isValidated, parseMessage } from '../schemas/validate.js';
import { type Codec, jsonCodec, msgpackCodec } from './codec.js';
import type { Link, LinkFrame, LinkStats } from './link.js';
import { codeOf, createLinkConnector, messageOf } from './link-connector.js';
import { createLinkFeeds } from './link-feeds.js';
import type { Feed, SubscribeOptions, Transport, TransportFault } from './transport.js';

export type { Link, LinkEvents, LinkFrame, LinkStats } from './link.js';

/** How a {@link defineTransport} transport tries again. Delays double from `delayMs` up to `maxDelayMs`. */
export interface ReconnectOptions {
  /** First delay after a loss or a failed attempt, ms. Default 250. */
  delayMs?: number;
  /** The longest delay, ms. Default 5 000. */
  maxDelayMs?: number;
  /** Failed attempts in a row after which it gives up (`disconnected`). Default: never. */
  attempts?: number;
}

/** Options of {@link defineTransport}. */
export interface DefineTransportOptions {
  /** For logs, errors and `Transport.name`, e.g. `mqtt`. */
  name: string;
  link: Link;
  /** How messages become bytes. Default `'json'`. */
  codec?: 'json' | 'msgpack' | Codec;
  /** How to reconnect after a loss, or `false` to give up at once. Default: {@link ReconnectOptions}' defaults. */
  reconnect?: ReconnectOptions | false;
  /**
   * How long `connect()` waits before it rejects with `E_TIMEOUT`, ms; the transport keeps trying.
   * Default 10 000.
   */
  connectTimeoutMs?: number;
  /**
   * Validate published messages against their topic's schema. Default true. What arrives is always
   * validated.
   */
  validate?: boolean;
  clock?: Clock;
}

/** A transport made by {@link defineTransport}: a {@link Transport} with its link's counters. */
export interface DefinedTransport extends Transport {
  linkStats(): Readonly<LinkStats>;
}

const codecs = { json: jsonCodec, msgpack: msgpackCodec } as const;

/**
 * Turns a small {@link Link} (connect, send, receive, lost, close) into a full {@link Transport}
 * that passes `describeTransport`. What it adds, in the order a message meets it:
 *
 * 1. **Out**: `publish` validates (throws a `ValidationError` naming the field) and encodes with the
 *    codec. While the link is down, a control command is dropped and reported (`E_NOT_CONNECTED`)
 *    and telemetry is kept as the last value per topic, sent once the link is back. A send the link
 *    reports failed goes to `faults$`.
 * 2. **In**: a frame for a subscribed topic is decoded (else refused, `E_PROTOCOL`), validated
 *    (else refused, `E_VALIDATION`, naming the field), checked for a copy of one already received
 *    (same sender, seq and stamp: dropped, counted as `duplicates`), then delivered under the lane
 *    rules by the in-process bus: each feed's {@link Mailbox}, latest-wins for control with
 *    deadlines, keep-last for telemetry. Refusals and duplicates count in every open feed of the
 *    topic ({@link FeedStats}).
 * 3. **Subscriptions**: a topic is asked of the link (`link.subscribe`) when it gets its first
 *    subscriber and given up with the last; its feeds are live once the link acknowledged it, not
 *    live while the link is down, and asked again after every reconnect.
 * 4. **State**: `idle` → `connecting` (attempts repeat with backoff) → `connected`; after a loss,
 *    `reconnecting` until the link is back; `disconnected` when it gives up (attempts ran out, or
 *    the link refused with `E_AUTH`/`E_CONFIG`); `closed` after `close()`.
 *
 * @example
 * ```ts
 * import { defineTransport, type Link } from '@telekit/core';
 * // A link to a broker that is just a function call away, to show the shape.
 * const peers = new Set<(topic: string, data: Uint8Array) => void>();
 * const link = (): Link => {
 *   let deliver: ((topic: string, data: Uint8Array) => void) | undefined;
 *   return {
 *     async connect(events) {
 *       deliver = (topic, data) => queueMicrotask(() => events.receive(topic, data));
 *       peers.add(deliver);
 *     },
 *     send(frame) {
 *       if (!deliver) throw new Error('not connected');
 *       for (const peer of peers) peer(frame.topic.name, frame.bytes);
 *     },
 *     async close() {
 *       if (deliver) peers.delete(deliver);
 *       deliver = undefined;
 *     },
 *   };
 * };
 * const transport = defineTransport({ name: 'loopback', link: link() });
 * await transport.connect();
 * ```
 */
export function defineTransport(options: DefineTransportOptions): DefinedTransport {
  const { link, name } = options;
  const clock = options.clock ?? systemClock;
  const codec = typeof options.codec === 'object' ? options.codec : codecs[options.codec ?? 'json'];
  const validate = options.validate ?? true;
  const faults = new Subject<TransportFault>();
  const counters: LinkStats = {
    connects: 0,
    sent: 0,
    failed: 0,
    unsent: 0,
    received: 0,
    refused: 0,
    duplicates: 0,
  };
  // Telemetry published while the link was down: the last frame per topic.
  const kept = new Map<string, LinkFrame>();

  const fault = (code: string, message: string, topic?: string, field?: string) =>
    faults.next({ code, message, ...(topic ? { topic } : {}), ...(field ? { field } : {}) });

  // 2 and 3: what arrives, and the subscriptions asked of the link.
  const feeds = createLinkFeeds({
    name,
    link,
    clock,
    codec,
    counters,
    fault,
    current: () => connection.current,
    closed: () => connection.closed,
  });
  // 4: the connection's state.
  const connection = createLinkConnector({
    name,
    link,
    clock,
    retry:
      options.reconnect === false
        ? undefined
        : { delayMs: 250, maxDelayMs: 5_000, attempts: Number.POSITIVE_INFINITY, ...options.reconnect },
    counters,
    receive: feeds.receive,
    connected(current) {
      feeds.connected(current);
      const backlog = [...kept.values()];
      kept.clear();
      for (const frame of backlog) send(frame);
    },
    lost: feeds.lost,
  });
  const state = connection.state;

  // 1: what goes out.
  function send(frame: LinkFrame): void {
    counters.sent++;
    const failed = (error: unknown) => {
      counters.failed++;
      fault(codeOf(error), `cannot send: ${messageOf(error)}`, frame.topic.name);
    };
    try {
      const sent = link.send(frame);
      if (sent) sent.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  }

  const closedError = (operation: string, topic?: string) =>
    new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
      operation,
      context: { transport: name, ...(topic ? { topic } : {}) },
    });

  return {
    name,
    capabilities: { reconnect: options.reconnect !== false, remote: true },
    get state() {
      return state.value;
    },
    state$: state.asObservable(),
    faults$: faults.asObservable(),
    linkStats: () => ({ ...counters }),
    connect() {
      if (connection.closed) return Promise.reject(closedError('connect'));
      return connection.connect(options.connectTimeoutMs ?? 10_000);
    },
    publish<T>(topic: Topic<T>, message: T) {
      if (connection.closed) throw closedError('publish', topic.name);
      const valid = validate && !isValidated(message) ? parseMessage(topic, message) : message;
      const current = connection.current;
      if (!current && topic.lane !== 'telemetry') {
        counters.unsent++;
        fault('E_NOT_CONNECTED', `link is down: message dropped [transport:${name}]`, topic.name);
        return;
      }
      const frame: LinkFrame = { topic: topic as Topic, bytes: codec.encode(valid), message: valid };
      if (current) send(frame);
      else kept.set(topic.name, frame);
    },
    subscribe<T>(topic: Topic<T>, opts?: SubscribeOptions): Feed<T> {
      return feeds.local.subscribe(topic, opts);
    },
    async close() {
      if (connection.closed) return;
      connection.close(() => closedError('connect'));
      kept.clear();
      await feeds.local.close();
      await link.close().catch(() => undefined);
      state.next({ status: 'closed', since: clock.now(), reason: 'closed by owner' });
      state.complete();
      faults.complete();
    },
  };
}
