import { defineTransport, jsonCodec } from '@telekit/core/transport';
import { describeTransport } from '@telekit/testkit';
import { filter, firstValueFrom } from 'rxjs';
import { MemoryBroker, memoryLink } from './memory-link.js';

describeTransport(
  'defineTransport on a link in memory',
  async () => {
    const broker = new MemoryBroker();
    const publisher = defineTransport({ name: 'memory', link: memoryLink(broker) });
    const subscriber = defineTransport({ name: 'memory', link: memoryLink(broker) });
    return {
      publisher,
      subscriber,
      // Returns only once both ends are back: the kit judges the states they went through.
      async breakLink() {
        broker.restart();
        for (const end of [publisher, subscriber])
          await firstValueFrom(end.state$.pipe(filter((s) => s.status === 'connected')));
      },
      async sendRaw(topic, data) {
        const raw = typeof data === 'string' || data instanceof Uint8Array;
        broker.publish(topic.name, raw ? data : jsonCodec.encode(data));
      },
      async close() {
        await publisher.close();
        await subscriber.close();
      },
    };
  },
  { capabilities: { reconnect: true, remote: true } },
);
