import { type InProcessTransportOptions, inProcessTransport } from '../transport/in-process-transport.js';
import type { Plugin } from './plugin.js';
import { TransportToken } from './tokens.js';

/**
 * The in-process transport as a plugin: provides the app's `TransportToken`.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * const app = createApp({ plugins: [inProcess()] });
 * ```
 */
export function inProcess(options: InProcessTransportOptions = {}): Plugin {
  return {
    name: '@telekit/core/in-process',
    kind: 'transport',
    provides: [TransportToken],
    setup(ctx) {
      const transport = inProcessTransport(options);
      ctx.provide(TransportToken, transport);
      return () => transport.close();
    },
  };
}
