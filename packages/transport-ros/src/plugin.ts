import { MediaSourcesToken, type Plugin, TransportToken } from '@telekit/core';
import { type RosImageSourceOptions, rosImageSource } from './image-source.js';
import { createRosTransport, type RosTransport, type RosTransportOptions } from './ros-transport.js';

/** Options of {@link rosTransport}. */
export interface RosTransportPluginOptions extends Omit<RosTransportOptions, 'logger' | 'clock'> {
  /** ROS image topics offered to the media plugin as sources, each under `stream`. */
  images?: readonly (Omit<RosImageSourceOptions, 'logger'> & { stream: string })[];
}

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
export function rosTransport(options: RosTransportPluginOptions = {}): Plugin {
  let transport: RosTransport | undefined;
  return {
    name: '@telekit/transport-ros',
    kind: 'transport',
    provides: options.images?.length ? [TransportToken, MediaSourcesToken] : [TransportToken],
    async setup(ctx) {
      const { images, ...transportOptions } = options;
      const t = await createRosTransport({ ...transportOptions, logger: ctx.logger, clock: ctx.clock });
      transport = t;
      ctx.onTeardown(() => t.close());
      ctx.provide(TransportToken, t);
      if (images?.length) {
        const sources = images.map(
          ({ stream, ...image }) => [stream, rosImageSource(t, { ...image, logger: ctx.logger })] as const,
        );
        ctx.onTeardown(async () => {
          for (const [, source] of sources) await source.close();
        });
        ctx.provide(MediaSourcesToken, new Map(sources));
      }
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
