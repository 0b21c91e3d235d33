import { BehaviorSubject, Subject } from 'rxjs';
import { type Clock, systemClock } from '../clock.js';
import { isTelekitError, TelekitError } from '../errors.js';
import type { Topic } from '../schemas/topic.js';
import { checkMessage, isValidated, parseMessage } from '../schemas/validate.js';
import { type Codec, jsonCodec, msgpackCodec } from './codec.js';
import { DuplicateFilter } from './duplicate-filter.js';
import { createInProcessBus, inProcessTransport } from './in-process-transport.js';
import type {
  ConnectionState,
  ConnectionStatus,
  Feed,
  SubscribeOptions,
  Transport,
  TransportFault,
} from './transport.js';

/** What a link tells its transport about one connection (a fresh object for every `connect`). */
export interface LinkEvents {
  /**
   * A frame arrived for a Telekit topic (by name, `/telemetry/battery`). The transport decodes it,
   * validates it, drops copies and hands it to the topic's feeds; frames for topics nobody here
   * subscribed to are ignored.
   */
  receive(topic: string, data: Uint8Array | string): void;
  /** The connection was lost by itself (not by `close()`): the transport reconnects or gives up. */
  lost(reason: string): void;
}

/** One message on its way out. */
export interface LinkFrame {
  readonly topic: Topic;
  /** The message in the transport's codec. */
  readonly bytes: Uint8Array;
  /** The validated message itself, for links that carry structured data rather than bytes. */
  readonly message: unknown;
}

/**
 * The small part of a transport that knows a network or a broker: what a plugin author writes for
 * {@link defineTransport}. It opens one connection at a time and never reconnects by itself (turn a
 * client library's own reconnection off): the transport decides when to try again.
 */
export interface Link {
  /**
   * Opens a connection and resolves once it can carry frames; report what arrives and the loss of
   * the connection on `events`. Rejects when it cannot connect: a `TelekitError` with code
   * `E_AUTH` or `E_CONFIG` makes the transport give up (it will not get better by retrying);
   * anything else is retried. After `events.lost`, the link has let go of that connection (or does
   * so in its next `connect`).
   */
  connect(events: LinkEvents): Promise<void>;
  /**
   * Sends a frame on the current connection. Resolve when the other side acknowledged it, if it
   * does. A throw or a rejection is reported on `faults$`: with the error's code when it is a
   * `TelekitError` (a broker's refusal as `E_FORBIDDEN`, …), else as `E_NOT_CONNECTED`.
   */
  send(frame: LinkFrame): void | Promise<void>;
  /**
   * Asks the other side for a topic's frames; resolves once it acknowledged (the topic's feeds are
   * live from then on). Called when a topic gets its first subscriber and again after every
   * reconnect. Without it, the link receives everything and feeds are live while connected.
   */
  subscribe?(topic: Topic): Promise<void>;
  /** Tells the other side a topic is no longer wanted here. */
  unsubscribe?(topic: Topic): void | Promise<void>;
  /** Closes the current connection, if any, without calling `lost`. Safe to call more than once. */
  close(): Promise<void>;
}

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

/** Counters of a {@link DefinedTransport}'s link, since it was made. */
export interface LinkStats {
  /** Connections made (the first and every reconnect). */
  connects: number;
  /** Frames handed to the link. */
  sent: number;
  /** Of those, sends the link reported failed (each one on `faults$`). */
  failed: number;
  /** Control commands dropped because the link was down (each one on `faults$`). */
  unsent: number;
  /** Frames that arrived for a topic subscribed here. */
  received: number;
  /** Of those, refused at the boundary: undecodable or invalid (each one on `faults$`). */
  refused: number;
  /** Of those, copies of a message already received. */
  duplicates: number;
}

/** A transport made by {@link defineTransport}: a {@link Transport} with its link's counters. */
export interface DefinedTransport extends Transport {
  linkStats(): Readonly<LinkStats>;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const codecs = { json: jsonCodec, msgpack: msgpackCodec } as const;
const FATAL = new Set(['E_AUTH', 'E_CONFIG']);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const codeOf = (error: unknown) => (isTelekitError(error) ? error.code : 'E_NOT_CONNECTED');

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
  const retry: Required<ReconnectOptions> | undefined =
    options.reconnect === false
      ? undefined
      : { delayMs: 250, maxDelayMs: 5_000, attempts: Number.POSITIVE_INFINITY, ...options.reconnect };
  const validate = options.validate ?? true;
  const state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: clock.now() });
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
  const duplicates = new DuplicateFilter();
  // Topics with at least one feed here, and how often each was asked of the link (the last ask wins).
  const wanted = new Map<string, Topic>();
  const asks = new Map<string, number>();
  // Telemetry published while the link was down: the last frame per topic.
  const kept = new Map<string, LinkFrame>();
  const waiters = new Set<Waiter>();
  // The current connection's events while connected; undefined while down.
  let current: LinkEvents | undefined;
  let attempting = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let trying: 'connecting' | 'reconnecting' = 'connecting';
  let closed = false;

  const fault = (code: string, message: string, topic?: string, field?: string) =>
    faults.next({ code, message, ...(topic ? { topic } : {}), ...(field ? { field } : {}) });

  const setState = (status: ConnectionStatus, reason?: string) => {
    const now = state.value;
    if (now.status === 'closed' || (now.status === status && now.reason === reason)) return;
    state.next({ status, since: clock.now(), ...(reason === undefined ? {} : { reason }) });
  };

  const bus = createInProcessBus({
    clock,
    liveness: 'acknowledged',
    demand: {
      open(topic) {
        wanted.set(topic.name, topic);
        if (current) ask(topic, current);
      },
      close(topic) {
        wanted.delete(topic.name);
        if (current && !closed) void Promise.resolve(link.unsubscribe?.(topic)).catch(() => undefined);
      },
    },
  });
  const local = inProcessTransport({ bus, name, validate: false });

  function ask(topic: Topic, connection: LinkEvents): void {
    if (!link.subscribe) {
      bus.setLive(topic, true);
      return;
    }
    const n = (asks.get(topic.name) ?? 0) + 1;
    asks.set(topic.name, n);
    link.subscribe(topic).then(
      () => {
        if (current === connection && asks.get(topic.name) === n && wanted.has(topic.name))
          bus.setLive(topic, true);
      },
      (error: unknown) => {
        if (current === connection) fault(codeOf(error), `cannot subscribe: ${messageOf(error)}`, topic.name);
      },
    );
  }

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

  function receive(name: string, data: Uint8Array | string): void {
    const topic = wanted.get(name);
    if (!topic) return;
    counters.received++;
    const refuse = (code: string, message: string, field?: string) => {
      counters.refused++;
      bus.refused(topic);
      fault(code, message, topic.name, field);
    };
    let value: unknown;
    try {
      value = codec.decode(data);
    } catch (error) {
      refuse('E_PROTOCOL', `undecodable ${codec.name} message: ${messageOf(error)}`);
      return;
    }
    const checked = checkMessage(topic, value);
    if (!checked.ok) {
      refuse('E_VALIDATION', checked.error.message, checked.error.field);
      return;
    }
    if (duplicates.isDuplicate(topic.name, checked.value)) {
      counters.duplicates++;
      bus.duplicated(topic);
      return;
    }
    bus.inject(topic, checked.value);
  }

  function attempt(): void {
    retryTimer = undefined;
    if (closed || attempting || current) return;
    attempting = true;
    setState(trying, state.value.reason);
    const connection: LinkEvents = {
      receive: (topic, data) => {
        if (current === connection) receive(topic, data);
      },
      lost: (reason) => {
        if (current === connection) lose(reason);
      },
    };
    link.connect(connection).then(
      () => {
        attempting = false;
        if (closed) return void link.close().catch(() => undefined);
        current = connection;
        failures = 0;
        counters.connects++;
        setState('connected');
        for (const topic of wanted.values()) ask(topic, connection);
        const backlog = [...kept.values()];
        kept.clear();
        for (const frame of backlog) send(frame);
        for (const w of waiters) settle(w);
      },
      (error: unknown) => {
        attempting = false;
        if (closed) return;
        failures++;
        const reason = messageOf(error);
        const fatal = isTelekitError(error) && FATAL.has(error.code);
        if (!retry || fatal || failures >= retry.attempts) return giveUp(error);
        setState(trying, reason);
        later();
      },
    );
  }

  function later(): void {
    if (!retry) return;
    const delay = Math.min(retry.delayMs * 2 ** Math.max(0, failures - 1), retry.maxDelayMs);
    // Jitter, so that many clients of one restarted broker do not all come back at once.
    retryTimer = setTimeout(attempt, delay * (0.75 + Math.random() * 0.5));
  }

  function lose(reason: string): void {
    current = undefined;
    for (const topic of wanted.values()) bus.setLive(topic, false);
    if (!retry) {
      setState('disconnected', reason);
      return;
    }
    trying = 'reconnecting';
    setState('reconnecting', reason);
    later();
  }

  function giveUp(error: unknown): void {
    setState('disconnected', messageOf(error));
    const e = new TelekitError(codeOf(error), `${name} cannot connect: ${messageOf(error)}`, {
      operation: 'connect',
      cause: error,
      context: { transport: name, attempts: failures },
    });
    for (const w of waiters) settle(w, e);
  }

  function settle(w: Waiter, error?: Error): void {
    clearTimeout(w.timer);
    waiters.delete(w);
    if (error) w.reject(error);
    else w.resolve();
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
      if (closed) return Promise.reject(closedError('connect'));
      if (current) return Promise.resolve();
      const ms = options.connectTimeoutMs ?? 10_000;
      const done = new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const e = new TelekitError('E_TIMEOUT', `${name} is not connected yet`, {
              operation: 'connect',
              context: { transport: name, ms },
            });
            settle(w, e);
          }, ms),
        };
        waiters.add(w);
      });
      if (!attempting && retryTimer === undefined) {
        trying = 'connecting';
        failures = 0;
        attempt();
      }
      return done;
    },
    publish<T>(topic: Topic<T>, message: T) {
      if (closed) throw closedError('publish', topic.name);
      const valid = validate && !isValidated(message) ? parseMessage(topic, message) : message;
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
      return local.subscribe(topic, opts);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      for (const w of waiters) settle(w, closedError('connect'));
      current = undefined;
      kept.clear();
      await local.close();
      await link.close().catch(() => undefined);
      state.next({ status: 'closed', since: clock.now(), reason: 'closed by owner' });
      state.complete();
      faults.complete();
    },
  };
}
