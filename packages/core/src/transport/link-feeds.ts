/**
 * The inbound side of a {@link defineTransport} transport: the topics with feeds here, asked of the
 * link when a topic gets its first subscriber and again after every reconnect (its feeds are live
 * once the link acknowledged it); and every frame that arrives for one — decoded, validated, checked
 * for a copy, then delivered under the lane rules by an in-process bus.
 */
import type { Clock } from '../clock.js';
import type { Topic } from '../schemas/topic.js';
import { checkMessage } from '../schemas/validate.js';
import type { Codec } from './codec.js';
import { DuplicateFilter } from './duplicate-filter.js';
import { createInProcessBus, inProcessTransport } from './in-process-transport.js';
import type { Link, LinkEvents, LinkStats } from './link.js';
import { codeOf, messageOf } from './link-connector.js';
import type { Transport } from './transport.js';

export interface LinkFeedsOptions {
  name: string;
  link: Link;
  clock: Clock;
  codec: Codec;
  counters: LinkStats;
  /** Reports a fault on `faults$`. */
  fault(code: string, message: string, topic?: string, field?: string): void;
  /** The current connection, undefined while down. */
  current(): LinkEvents | undefined;
  /** True once the transport is closed. */
  closed(): boolean;
}

/** The feeds of one transport, as {@link createLinkFeeds} makes them. */
export interface LinkFeeds {
  /** The local transport whose feeds the application holds. */
  readonly local: Transport;
  /** A frame arrived for `topic` (by name): delivered, or refused and counted. */
  receive(topic: string, data: Uint8Array | string): void;
  /** A new connection: every topic with feeds is asked of it again. */
  connected(connection: LinkEvents): void;
  /** The connection was lost: no feed is live until it is back. */
  lost(): void;
}

export function createLinkFeeds(o: LinkFeedsOptions): LinkFeeds {
  const { link, codec, counters, fault } = o;
  const duplicates = new DuplicateFilter();
  // Topics with at least one feed here, and how often each was asked of the link (the last ask wins).
  const wanted = new Map<string, Topic>();
  const asks = new Map<string, number>();

  const bus = createInProcessBus({
    clock: o.clock,
    liveness: 'acknowledged',
    demand: {
      open(topic) {
        wanted.set(topic.name, topic);
        const current = o.current();
        if (current) ask(topic, current);
      },
      close(topic) {
        wanted.delete(topic.name);
        if (o.current() && !o.closed())
          void Promise.resolve(link.unsubscribe?.(topic)).catch(() => undefined);
      },
    },
  });
  const local = inProcessTransport({ bus, name: o.name, validate: false });

  function ask(topic: Topic, connection: LinkEvents): void {
    if (!link.subscribe) {
      bus.setLive(topic, true);
      return;
    }
    const n = (asks.get(topic.name) ?? 0) + 1;
    asks.set(topic.name, n);
    link.subscribe(topic).then(
      () => {
        if (o.current() === connection && asks.get(topic.name) === n && wanted.has(topic.name))
          bus.setLive(topic, true);
      },
      (error: unknown) => {
        if (o.current() === connection)
          fault(codeOf(error), `cannot subscribe: ${messageOf(error)}`, topic.name);
      },
    );
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

  return {
    local,
    receive,
    connected(connection) {
      for (const topic of wanted.values()) ask(topic, connection);
    },
    lost() {
      for (const topic of wanted.values()) bus.setLive(topic, false);
    },
  };
}
