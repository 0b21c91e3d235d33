import { describeTransport } from '@telekit/testkit';
import { startGateway } from './helpers.js';

// The socket.io client against a real gateway on loopback passes the transport kit, reconnect
// included: with a connection per lane (the default) and with both lanes on one.
for (const sharedConnection of [false, true])
  describeTransport(
    `gateway client over socket.io${sharedConnection ? ', one shared connection' : ''}`,
    async () => {
      const g = await startGateway({ rateLimit: { commands: { rate: 10_000, burst: 10_000 } } });
      const client = g.client({ sharedConnection });
      return {
        publisher: g.app,
        subscriber: client,
        breakLink: async () => g.gateway.dropConnections(),
        close: () => g.close(),
      };
    },
    { capabilities: { reconnect: true, remote: true }, timeoutMs: 5_000 },
  );
