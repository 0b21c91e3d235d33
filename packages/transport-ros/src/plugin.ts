import { type Plugin, TransportToken } from '@telekit/core';
import { createRosTransport, type RosTransport, type RosTransportOptions } from './ros-transport.js';

/**
 * The ROS 2 transport as a plugin: provides the app's `TransportToken`, so the gateway and every
 * other plugin talk to the robot's ROS graph. Fails at setup, saying what to install and source,
 * where ROS 2 or rclnodejs is missing.
 *
 * @example
 * ```ts
 * import { createApp } from '@telekit/core';
 * import { gateway } from '@telekit/gateway';
 * import { defaultMappings, rosTransport } from '@telekit/transport-ros';
 * await createApp({ plugins: [rosTransport({ mappings: defaultMappings({ twistStamped: true }) }), gateway({ auth })] }).start();
 * ```
 */
export function rosTransport(options: Omit<RosTransportOptions, 'logger' | 'clock'> = {}): Plugin {
  let transport: RosTransport | undefined;
  return {
    name: '@telekit/transport-ros',
    kind: 'transport',
    provides: [TransportToken],
    async setup(ctx) {
      const t = await createRosTransport({ ...options, logger: ctx.logger, clock: ctx.clock });
      transport = t;
      ctx.onTeardown(() => t.close());
      ctx.provide(TransportToken, t);
      ctx.logger.info('on the ROS graph', { node: t.node.name(), mapped: t.stats().length });
    },
    health() {
      if (!transport) return { status: 'down', detail: 'not started' };
      const stats = transport.stats();
      const rejected = stats.reduce((a, s) => a + s.rejected, 0);
      return {
        status: 'ok',
        detail: `${stats.length} topics mapped; ${stats.reduce((a, s) => a + s.forwarded, 0)} messages across, ${rejected} refused`,
      };
    },
  };
}
