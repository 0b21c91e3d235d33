/**
 * What the app's ROS node offers besides the mapping: calling a ROS service (one client per
 * service, kept), serving one, and subscribing to a topic's serialized messages (for images and
 * other bulk data, not deserialized).
 */
import { type Logger, TelekitError } from '@telekit/core';
import type { RclModule, RclNode } from './rcl.js';
import { qosOf } from './rcl-context.js';
import type { RosTransport } from './ros-transport.js';

/** The node's services as the transport exposes them. */
export type RosNodeServices = Pick<RosTransport, 'call' | 'serve' | 'subscribeRaw'>;

export function nodeServices(
  rcl: RclModule,
  node: RclNode,
  logger: Logger,
  closed: () => boolean,
): RosNodeServices {
  const clients = new Map<string, ReturnType<RclNode['createClient']>>();
  return {
    async call<Res>(
      service: string,
      type: string,
      request: object,
      callOptions: { timeoutMs?: number } = {},
    ) {
      const timeoutMs = callOptions.timeoutMs ?? 5_000;
      let client = clients.get(service);
      if (!client) {
        client = node.createClient(type, service);
        clients.set(service, client);
      }
      if (!(await client.waitForService(timeoutMs)))
        throw new TelekitError('E_ROS_SERVICE_UNAVAILABLE', `service ${service} (${type}) is not available`, {
          operation: 'call',
          context: { service, ms: timeoutMs },
        });
      try {
        return (await client.sendRequestAsync(request as never, { timeout: timeoutMs })) as Res;
      } catch (error) {
        throw new TelekitError('E_ROS_SERVICE', `service ${service} failed: ${(error as Error).message}`, {
          operation: 'call',
          cause: error,
          context: { service },
        });
      }
    },
    subscribeRaw(type, topic, qos, onMessage) {
      const subscription = node.createSubscription(
        type,
        topic,
        { qos: qosOf(rcl, qos), isRaw: true },
        (bytes) => {
          if (!closed()) onMessage(bytes as Uint8Array);
        },
      );
      return () => {
        if (!closed()) node.destroySubscription(subscription);
      };
    },
    serve(service, type, handler) {
      const server = node.createService(type, service, (request, response) => {
        Promise.resolve()
          .then(() => handler(request as never))
          .then(
            (answer) => response.send(answer as never),
            (error: unknown) => {
              logger.warn('service handler failed', { service, error: String(error) });
              response.send(response.template);
            },
          );
      });
      return () => node.destroyService(server);
    },
  };
}
