import { MediaSignallingToken, type Plugin, TransportToken } from '@telekit/core';
import { createGateway, type Gateway, type GatewayOptions } from './create-gateway.js';

/** Options of {@link gateway}: those of `createGateway` (less the transport, taken from the app) plus where to listen. */
export interface GatewayPluginOptions
  extends Omit<GatewayOptions, 'transport' | 'health' | 'logger' | 'clock' | 'media'> {
  /** Port to listen on. Default 8080; 0 picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Called once listening, with the gateway (its URL, metrics…). */
  onListen?: (gateway: Gateway) => void;
}

/**
 * The gateway as a plugin: bridges browsers to the app's transport; `/readyz` reports the app's
 * health.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway, jwtVerifier } from '@telekit/gateway';
 * const app = createApp({ plugins: [inProcess(), gateway({ auth: jwtVerifier({ secret }), port: 8080 })] });
 * await app.start();
 * ```
 */
export function gateway(options: GatewayPluginOptions): Plugin {
  let running: Gateway | undefined;
  return {
    name: '@telekit/gateway',
    kind: 'gateway',
    requires: [TransportToken],
    optional: [MediaSignallingToken],
    async setup(ctx) {
      const { port, host, onListen, ...rest } = options;
      running = await createGateway({
        ...rest,
        transport: ctx.resolve(TransportToken),
        ...(ctx.tryResolve(MediaSignallingToken) ? { media: ctx.tryResolve(MediaSignallingToken)! } : {}),
        logger: ctx.logger,
        clock: ctx.clock,
        health: () => ctx.appHealth(),
      });
      await running.listen(port ?? 8080, host ?? '127.0.0.1');
      onListen?.(running);
      return () => running?.close();
    },
    health() {
      if (!running) return { status: 'down', detail: 'not started' };
      return { status: 'ok', detail: running.url, data: { clients: running.clients().length } };
    },
  };
}
