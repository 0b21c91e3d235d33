import type { Link, LinkEvents } from '@telekit/core/transport';

interface Client {
  readonly events: LinkEvents;
  readonly topics: Set<string>;
}

/** A broker in memory: what a real one does (topics, subscriptions, restarts), minus the network. */
export class MemoryBroker {
  readonly #clients = new Set<Client>();

  /** Hands a frame to every client subscribed to its topic, a moment later, as a network would. */
  publish(topic: string, data: Uint8Array | string): void {
    for (const client of this.#clients)
      if (client.topics.has(topic)) queueMicrotask(() => client.events.receive(topic, data));
  }

  join(events: LinkEvents): Client {
    const client = { events, topics: new Set<string>() };
    this.#clients.add(client);
    return client;
  }

  leave(client: Client): void {
    this.#clients.delete(client);
  }

  /** Drops every connection, as a broker restart does; clients may connect again at once. */
  restart(): void {
    const clients = [...this.#clients];
    this.#clients.clear();
    for (const client of clients) client.events.lost('broker restarted');
  }
}

/** A link to a {@link MemoryBroker}: the five things a `Link` does, and nothing else. */
export function memoryLink(broker: MemoryBroker): Link {
  let client: Client | undefined;
  return {
    async connect(events) {
      client = broker.join(events);
    },
    send(frame) {
      if (!client) throw new Error('not connected');
      broker.publish(frame.topic.name, frame.bytes);
    },
    async subscribe(topic) {
      client?.topics.add(topic.name);
    },
    unsubscribe(topic) {
      client?.topics.delete(topic.name);
    },
    async close() {
      if (client) broker.leave(client);
      client = undefined;
    },
  };
}
