import { inProcessTransport, silentLogger, type Transport } from '@telekit/core';
import { type GatewayClient, type GatewayClientOptions, gatewayClient } from '../src/client/index.js';
import { createGateway, type Gateway, type GatewayOptions } from '../src/index.js';

export const SECRET = 'test-secret-that-is-at-least-32-bytes-long';

/** A real gateway on loopback over an in-process app transport, and a way to make clients. */
export async function startGateway(options: Partial<GatewayOptions> = {}) {
  const app: Transport = options.transport ?? inProcessTransport();
  const gateway: Gateway = await createGateway({
    auth: 'none',
    logger: silentLogger,
    ...options,
    transport: app,
  });
  const url = await gateway.listen();
  const clients: GatewayClient[] = [];
  return {
    app,
    gateway,
    url,
    client(opts: Partial<GatewayClientOptions> = {}) {
      const c = gatewayClient({ url, ...opts });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await gateway.close();
      await app.close();
    },
  };
}
