import { MediaSignallingToken, type Plugin, type Token, TransportToken, token } from '@telekit/core';
import { createGateway, type Gateway, type GatewayOptions } from './create-gateway.js';

/**
 * The running gateway, for plugins that extend it: HTTP routes (behind the gateway's own token and
 * access-list check when given a `RouteAccess`), WebSocket upgrade paths, topics and publish grants
 * (`gateway.route()`, `upgrade()`, `addTopics()`, `grant()`). A plugin that
 * `requires: [GatewayToken]` is set up after the gateway listens and torn down before it closes. A
 * plugin the gateway itself uses (the media plugin, through `MediaSignallingToken`) is set up before
 * it, so it cannot require this token: a second small plugin of its package does (as
 * `@telekit/media-nvenc`'s `hlsRoute()` mounts its HLS files).
 */
export const GatewayToken: Token<Gateway> = token<Gateway>('@telekit/gateway/Gateway');

/** Options of {@link gateway}: those of `createGateway` (less the transport, taken from the app) plus where to listen. */
export interface GatewayPluginOptions
  extends Omit<GatewayOptions, 'transport' | 'health' | 'logger' | 'clock' | 'media'> {
  /** Port to listen on. Default 8080; 0 picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** @deprecated Require `GatewayToken` in a plugin instead. Called once listening, with the gateway. */
  onListen?: (gateway: Gateway) => void;
}

/**
 * The gateway as a plugin: bridges browsers to the app's transport; `/readyz` reports the app's
 * health; provides {@link GatewayToken} to the plugins that extend it.
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
    provides: [GatewayToken],
    async setup(ctx) {
      const { port, host, onListen, ...rest } = options;
      const media = ctx.tryResolve(MediaSignallingToken);
      running = await createGateway({
        ...rest,
        transport: ctx.resolve(TransportToken),
        ...(media ? { media } : {}),
        logger: ctx.logger,
        clock: ctx.clock,
        health: () => ctx.appHealth(),
      });
      await running.listen(port ?? 8080, host ?? '127.0.0.1');
      ctx.provide(GatewayToken, running);
      onListen?.(running);
      return () => running?.close();
    },
    halt() {
      running?.halt();
    },
    health() {
      if (!running) return { status: 'down', detail: 'not started' };
      return { status: 'ok', detail: running.url, data: { clients: running.clients().length } };
    },
  };
}
