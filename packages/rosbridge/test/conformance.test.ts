import { describeTransport, transportKitTopics } from '@telekit/testkit';
import { envelope } from '@telekit/transport-ros';
import { WebSocket } from 'ws';
import { createRosbridgeTransport } from '../src/index.js';
import { startSpecServer } from './spec-server.js';

// The rosbridge transport passes the transport kit through a small spec-following rosbridge server
// (test/spec-server.ts): a real rosbridge_server needs ROS 2, which cannot run here. The kit checks
// headers, order and deadlines, which a ROS-typed mapping cannot carry (geometry_msgs/Twist has no
// header): its topics travel whole as std_msgs/String (transport-ros's `envelope`), as Telekit apps
// talking through a ROS graph do. The ROS-typed mapping is tested against the endpoint
// (transport.test.ts).
const mappings = transportKitTopics.map((t) => envelope(t, t.lane === 'control' ? 'to-ros' : 'from-ros'));

describeTransport(
  'rosbridge (roslib 2.1) through a spec-following rosbridge server',
  async () => {
    const server = await startSpecServer();
    const options = { url: server.url, mappings, reconnect: { delayMs: 50, maxDelayMs: 500 } };
    const publisher = createRosbridgeTransport(options);
    const subscriber = createRosbridgeTransport(options);
    let raw: WebSocket | undefined;
    return {
      publisher,
      subscriber,
      breakLink: async () => server.dropAll(),
      async sendRaw(topic, data) {
        if (!raw) {
          const ws = new WebSocket(server.url);
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          raw = ws;
        }
        const text =
          typeof data === 'string'
            ? data
            : data instanceof Uint8Array
              ? Buffer.from(data).toString('latin1')
              : JSON.stringify(data);
        raw.send(JSON.stringify({ op: 'publish', topic: `/telekit${topic.name}`, msg: { data: text } }));
      },
      async close() {
        await publisher.close();
        await subscriber.close();
        raw?.terminate();
        await server.close();
      },
    };
  },
  { capabilities: { reconnect: true, remote: true }, timeoutMs: 5_000 },
);
