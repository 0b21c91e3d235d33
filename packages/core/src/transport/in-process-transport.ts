import { BehaviorSubject, distinctUntilChanged, Observable, Subject, type Subscriber, takeUntil } from 'rxjs';
import { type Clock, systemClock } from '../clock.js';
import { TelekitError } from '../errors.js';
import { checkDeadline } from '../safety/deadline.js';
import type { Header } from '../schemas/common.js';
import type { Topic } from '../schemas/topic.js';
import { isValidated, parseMessage } from '../schemas/validate.js';
import { Encoded } from './encoded.js';
import { Mailbox } from './mailbox.js';
import type {
  ConnectionState,
  Feed,
  FeedStats,
  SubscribeOptions,
  Transport,
  TransportFault,
} from './transport.js';

/** Runs a flush later; the default is `queueMicrotask`. */
export type Schedule = (flush: () => void) => void;

/** Options of {@link createInProcessBus}. */
export interface InProcessBusOptions {
  clock?: Clock;
  /** When to deliver what was published. Default: a microtask (after the publisher's synchronous code). */
  schedule?: Schedule;
  /**
   * Told when a topic gets its first local subscriber and loses its last, for transports built on
   * the bus that fetch a topic from elsewhere only while someone wants it. With it, the last
   * telemetry sample is forgotten when a topic loses its last subscriber (it would go stale).
   */
  demand?: { open(topic: Topic<unknown>): void; close(topic: Topic<unknown>): void };
  /**
   * Receiver clock minus the publishers' clock, ms, for deadline checks of control messages that
   * arrive from another machine. Default 0.
   */
  offset?: () => number;
  /**
   * When a feed is live ({@link Feed.live$}). `'local'` (default): as soon as it has a subscriber.
   * `'acknowledged'`: only once the transport built on the bus says the other side acknowledged
   * the topic's subscription ({@link InProcessBus.setLive}); for transports that fetch topics from
   * elsewhere.
   */
  liveness?: 'local' | 'acknowledged';
}

interface Mailroom {
  readonly topic: Topic<unknown>;
  readonly mailbox: Mailbox<unknown>;
  readonly ttl: number;
  readonly observers: Set<Subscriber<unknown>>;
  readonly live: BehaviorSubject<boolean>;
}

interface FeedHooks {
  isClosed(): boolean;
  /** Emits once, when the transport closes. */
  readonly closing: Observable<void>;
  open(room: Mailroom): void;
  shut(room: Mailroom): void;
}

/**
 * The shared medium of in-process transports. Every transport made with the same bus sees the
 * others' messages, as peers on one network would; each keeps its own subscriptions and state.
 */
export interface InProcessBus {
  readonly clock: Clock;
  /** Subscriber mailboxes currently open, for leak checks. */
  readonly openMailboxes: number;
  /** Topics with at least one local subscriber. */
  readonly topics: readonly Topic<unknown>[];
  /**
   * Hands a message that arrived from elsewhere (over a network, from another process) to the
   * local subscribers, under the lane rules. Not validated here: validate at the boundary first —
   * or, for telemetry, give an {@link Encoded} that decodes (and validates) it when it is delivered,
   * so that a sample a newer one replaces first costs no decoding.
   */
  inject(topic: Topic<unknown>, message: unknown): void;
  /**
   * Says whether the other side has acknowledged a topic's subscription (with `liveness:
   * 'acknowledged'`): the topic's feeds are live while it is true. Forgotten when the topic loses
   * its last local subscriber.
   */
  setLive(topic: Topic<unknown>, live: boolean): void;
  /** Counts a message on `topic` refused at the boundary, in every open feed of the topic. */
  refused(topic: Topic<unknown>): void;
  /** Counts a duplicate of a message already received on `topic`, in every open feed of the topic. */
  duplicated(topic: Topic<unknown>): void;
}

class Bus implements InProcessBus {
  readonly clock: Clock;
  readonly #schedule: Schedule;
  readonly #demand: InProcessBusOptions['demand'];
  readonly #offset: () => number;
  readonly #acknowledged: boolean;
  readonly #live = new Set<string>();
  readonly #rooms = new Map<string, Set<Mailroom>>();
  readonly #latched = new Map<string, unknown>();
  readonly #dirty = new Set<Mailroom>();
  #scheduled = false;

  constructor(options: InProcessBusOptions = {}) {
    this.clock = options.clock ?? systemClock;
    // Wrapped: browsers refuse queueMicrotask called with another `this` ("Illegal invocation").
    this.#schedule = options.schedule ?? ((flush) => queueMicrotask(flush));
    this.#demand = options.demand;
    this.#offset = options.offset ?? (() => 0);
    this.#acknowledged = options.liveness === 'acknowledged';
  }

  get topics(): readonly Topic<unknown>[] {
    return [...this.#rooms.values()].map((rooms) => [...rooms][0]!.topic);
  }

  inject(topic: Topic<unknown>, message: unknown): void {
    this.post(topic, message);
  }

  setLive(topic: Topic<unknown>, live: boolean): void {
    const rooms = this.#rooms.get(topic.name);
    if (!rooms) return;
    if (live) this.#live.add(topic.name);
    else this.#live.delete(topic.name);
    for (const room of rooms) if (room.live.value !== live) room.live.next(live);
  }

  refused(topic: Topic<unknown>): void {
    for (const room of this.#rooms.get(topic.name) ?? []) room.mailbox.refused();
  }

  duplicated(topic: Topic<unknown>): void {
    for (const room of this.#rooms.get(topic.name) ?? []) room.mailbox.duplicated();
  }

  post(topic: Topic<unknown>, message: unknown): void {
    if (topic.lane === 'telemetry') this.#latched.set(topic.name, message);
    const rooms = this.#rooms.get(topic.name);
    if (!rooms) return;
    for (const room of rooms) {
      room.mailbox.push(message);
      this.#dirty.add(room);
    }
    this.#arm();
  }

  open(room: Mailroom): void {
    let rooms = this.#rooms.get(room.topic.name);
    if (!rooms) {
      rooms = new Set();
      this.#rooms.set(room.topic.name, rooms);
    }
    rooms.add(room);
    room.live.next(!this.#acknowledged || this.#live.has(room.topic.name));
    if (rooms.size === 1) this.#demand?.open(room.topic);
    // Telemetry is state: a late subscriber starts from the last sample. Control is not replayed.
    if (room.topic.lane === 'telemetry' && this.#latched.has(room.topic.name)) {
      room.mailbox.push(this.#latched.get(room.topic.name));
      this.#dirty.add(room);
      this.#arm();
    }
  }

  shut(room: Mailroom): void {
    const rooms = this.#rooms.get(room.topic.name);
    if (!rooms?.delete(room)) return;
    this.#dirty.delete(room);
    if (room.live.value) room.live.next(false);
    if (rooms.size === 0) {
      this.#rooms.delete(room.topic.name);
      this.#live.delete(room.topic.name);
      if (this.#demand) {
        this.#latched.delete(room.topic.name);
        this.#demand.close(room.topic);
      }
    }
  }

  get openMailboxes(): number {
    let n = 0;
    for (const rooms of this.#rooms.values()) n += rooms.size;
    return n;
  }

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    const now = this.clock.now();
    const offset = this.#offset();
    for (const room of rooms) {
      for (let m = room.mailbox.take(); m !== undefined; m = room.mailbox.take()) {
        // Decoded now, once for every room, or never if a newer sample took its place first.
        if (m instanceof Encoded) m = m.value();
        if (m === undefined) continue;
        if (room.topic.lane === 'control' && isExpired(m, now, room.ttl, offset)) {
          room.mailbox.expired();
          continue;
        }
        room.mailbox.delivered();
        for (const observer of room.observers) observer.next(m);
      }
    }
  }
}

function isExpired(message: unknown, now: number, ttl: number, offset: number): boolean {
  const header = (message as { header?: Header }).header;
  return header !== undefined && !checkDeadline(header, now, { ttl, offset }).fresh;
}

/** Creates a bus for several {@link inProcessTransport}s to share. */
export function createInProcessBus(options: InProcessBusOptions = {}): InProcessBus {
  return new Bus(options);
}

/** Options of {@link inProcessTransport}. */
export interface InProcessTransportOptions {
  /** The bus to join; a private one when absent. */
  bus?: InProcessBus;
  /** Name for logs and errors. Default `in-process`. */
  name?: string;
  /**
   * Validate published messages against their topic's schema. Default true. Turn it off only on a
   * hot path whose messages are built by trusted code.
   */
  validate?: boolean;
}

class InProcessFeed<T> extends Observable<T> implements Feed<T> {
  readonly topic: Topic<T>;
  readonly live$: Observable<boolean>;
  readonly #room: Mailroom;

  constructor(topic: Topic<T>, room: Mailroom, hooks: FeedHooks) {
    super((subscriber) => {
      if (hooks.isClosed()) {
        subscriber.error(
          new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
            operation: 'subscribe',
            context: { topic: topic.name },
          }),
        );
        return;
      }
      const observer = subscriber as Subscriber<unknown>;
      if (room.observers.size === 0) hooks.open(room);
      room.observers.add(observer);
      return () => {
        room.observers.delete(observer);
        if (room.observers.size === 0) hooks.shut(room);
      };
    });
    this.topic = topic;
    this.#room = room;
    this.live$ = new Observable<boolean>((subscriber) => {
      if (hooks.isClosed()) {
        subscriber.next(false);
        subscriber.complete();
        return;
      }
      return room.live.pipe(distinctUntilChanged(), takeUntil(hooks.closing)).subscribe(subscriber);
    });
  }

  stats(): Readonly<FeedStats> {
    return this.#room.mailbox.stats();
  }
}

/**
 * The reference {@link Transport}: typed topics between the plugins of one process (or of several
 * transports on one {@link InProcessBus}), with the full lane rules and no network.
 *
 * @example
 * ```ts
 * import { inProcessTransport, Topics, headerSequence, systemClock } from '@telekit/core';
 * const transport = inProcessTransport();
 * transport.subscribe(Topics.twist).subscribe((cmd) => console.log(cmd.linear.x));
 * const header = headerSequence('operator', systemClock.now);
 * transport.publish(Topics.twist, { header: header(), linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
 * ```
 */
export function inProcessTransport(options: InProcessTransportOptions = {}): Transport {
  // Every bus is made by createInProcessBus, so it is a Bus.
  const bus = (options.bus ?? new Bus()) as Bus;
  const name = options.name ?? 'in-process';
  const validate = options.validate ?? true;
  const state = new BehaviorSubject<ConnectionState>({ status: 'connected', since: bus.clock.now() });
  // Nothing goes wrong after the fact in one process; the stream is here for the contract.
  const faults = new Subject<TransportFault>();
  const closing = new Subject<void>();
  // Mailboxes with at least one subscriber, to complete on close.
  const rooms = new Set<Mailroom>();
  let closed = false;
  const hooks: FeedHooks = {
    isClosed: () => closed,
    closing,
    open(room) {
      rooms.add(room);
      bus.open(room);
    },
    shut(room) {
      rooms.delete(room);
      bus.shut(room);
    },
  };

  return {
    name,
    capabilities: { reconnect: false, remote: false },
    get state() {
      return state.value;
    },
    state$: state.asObservable(),
    faults$: faults.asObservable(),
    async connect() {
      if (closed)
        throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
          operation: 'connect',
          context: { transport: name },
        });
    },
    publish<T>(topic: Topic<T>, message: T) {
      if (closed) {
        throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
          operation: 'publish',
          context: { transport: name, topic: topic.name },
        });
      }
      bus.post(
        topic as Topic<unknown>,
        validate && !isValidated(message) ? parseMessage(topic, message) : message,
      );
    },
    subscribe<T>(topic: Topic<T>, opts: SubscribeOptions = {}): Feed<T> {
      const room: Mailroom = {
        topic: topic as Topic<unknown>,
        mailbox: new Mailbox(
          topic.lane === 'telemetry'
            ? { kind: 'keep-last', depth: opts.depth ?? topic.depth }
            : { kind: 'latest' },
        ),
        ttl: opts.ttl ?? topic.ttl,
        observers: new Set(),
        live: new BehaviorSubject(false),
      };
      return new InProcessFeed(topic, room, hooks);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const room of [...rooms]) {
        // Completing the last observer runs its teardown, which shuts the mailbox.
        for (const observer of [...room.observers]) observer.complete();
        hooks.shut(room);
      }
      closing.next();
      closing.complete();
      state.next({ status: 'closed', since: bus.clock.now(), reason: 'closed by owner' });
      state.complete();
      faults.complete();
    },
  };
}
