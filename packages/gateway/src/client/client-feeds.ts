/**
 * What the client receives: the topics it knows (built in, given, or subscribed to), a local
 * in-process bus that applies the lane rules to what arrives (control deadlines judged on the
 * gateway's clock through the offset estimate), and the `sub`/`unsub` requests that make the gateway
 * send a topic — asked when a topic gets its first subscriber, and again on every welcome.
 */
import {
  type Clock,
  createInProcessBus,
  type Feed,
  type InProcessBus,
  inProcessTransport,
  type SubscribeOptions,
  type Topic,
  type Transport,
} from '@telekit/core';
import { builtinTopics } from '@telekit/core/schemas';
import type { Socket } from 'socket.io-client';
import { type Ack, type ClientLane, laneOf, type WireError } from '../protocol.js';
import type { GatewayClientOptions } from './client-types.js';
import { type BatchReader, readBatch } from './inbound-batch.js';

export interface ClientFeedsOptions {
  options: GatewayClientOptions;
  clock: Clock;
  sockets: Record<ClientLane, Socket>;
  /** Server clock minus this client's, ms (0 before the first estimate). */
  offset(): number;
  /** A refusal to report on `faults$`. */
  fault(error: WireError): void;
}

export class ClientFeeds {
  private readonly _o: ClientFeedsOptions;
  private readonly _registry: Map<string, Topic>;
  private readonly _depths = new Map<string, number>();
  private readonly _validation: NonNullable<GatewayClientOptions['inboundValidation']>;
  private readonly _bus: InProcessBus;
  private readonly _local: Transport;
  // What arrives from the gateway: delivered locally with the lane rules, or counted and reported.
  private readonly _reader: BatchReader = {
    deliver: (topic, message) => this._bus.inject(topic, message),
    refuse: (topic, fault) => {
      this._bus.refused(topic);
      this._o.fault(fault);
    },
  };

  constructor(o: ClientFeedsOptions) {
    this._o = o;
    this._validation = o.options.inboundValidation ?? 'gateway';
    this._registry = new Map([...builtinTopics, ...(o.options.topics ?? [])].map((t) => [t.name, t]));
    // Local delivery: the lane rules, with control deadlines judged on this client's clock.
    this._bus = createInProcessBus({
      clock: o.clock,
      // A feed is live once the gateway answered its `sub`.
      liveness: 'acknowledged',
      demand: {
        open: (topic) => this._follow(topic, 'sub'),
        close: (topic) => this._follow(topic, 'unsub'),
      },
      offset: () => -o.offset(),
    });
    this._local = inProcessTransport({ bus: this._bus, validate: false, name: 'gateway-client' });
  }

  /** A topic this client knows by name. */
  topic(name: string): Topic | undefined {
    return this._registry.get(name);
  }

  subscribe<T>(topic: Topic<T>, opts: SubscribeOptions): Feed<T> {
    if (opts.depth !== undefined) this._depths.set(topic.name, opts.depth);
    if (!this._registry.has(topic.name)) this._registry.set(topic.name, topic as Topic);
    return this._local.subscribe(topic, opts);
  }

  /** Reads one batch that arrived on a lane. */
  read(batch: unknown): void {
    readBatch(batch, this._registry, this._reader, this._validation);
  }

  /** A lane was welcomed: asks again for what it had. */
  restore(lane: ClientLane): void {
    for (const topic of this._bus.topics) if (laneOf(topic) === lane) this._follow(topic, 'sub');
  }

  /** A lane went down: its topics' feeds are not live until it is back. */
  down(lane: ClientLane): void {
    for (const topic of this._bus.topics) if (laneOf(topic) === lane) this._bus.setLive(topic, false);
  }

  close(): Promise<void> {
    return this._local.close();
  }

  /** Asks the gateway to start or stop sending a topic (sent again on reconnect). */
  private _follow(topic: Topic, verb: 'sub' | 'unsub'): void {
    const socket = this._o.sockets[laneOf(topic)];
    if (!socket.connected) return; // sent on (re)connect
    const depth = this._depths.get(topic.name);
    const args = verb === 'sub' && depth !== undefined ? { topic: topic.name, depth } : { topic: topic.name };
    socket.emit(verb, args, (ack: Ack) => {
      if (!ack.ok) this._o.fault(ack.error);
      else if (verb === 'sub' && socket.connected) this._bus.setLive(topic, true);
    });
  }
}
