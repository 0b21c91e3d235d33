/**
 * The boundary with rclnodejs: the part of its API this package uses, typed by rclnodejs's own
 * declarations, and the lazy loader that explains what is missing when ROS 2 is not there.
 *
 * @module
 */

import { TelekitError } from '@telekit/core';
import type * as rclnodejs from 'rclnodejs';

/** What the node's constructors return, opaque to Telekit (a subscription, a service). */
export type RclHandle = object;

/** A publisher, as rclnodejs declares it (the part Telekit uses). */
export type RclPublisher = Pick<rclnodejs.Publisher<never>, 'publish' | 'topic'>;

/** A service client, as rclnodejs declares it (the part Telekit uses). */
export interface RclClient {
  waitForService(timeout?: number): Promise<boolean>;
  sendRequestAsync(request: never, options?: rclnodejs.Client.AsyncRequestOptions): Promise<unknown>;
}

/** The response object a service handler answers through. */
export interface RclServiceResponse {
  /** An empty response message of the service's type. */
  readonly template: object;
  send(response: object): void;
}

/**
 * The node methods Telekit calls: one node per app. rclnodejs's `Node` satisfies it (checked by a
 * type test against rclnodejs's own declarations), and so does the test double.
 */
export interface RclNode {
  name(): string;
  namespace(): string;
  createPublisher(type: string, topic: string, options?: rclnodejs.Options): RclPublisher;
  createSubscription(
    type: string,
    topic: string,
    options: rclnodejs.Options,
    callback: (message: unknown, info?: rclnodejs.MessageInfo) => void,
  ): RclHandle;
  createClient(type: string, service: string, options?: rclnodejs.Options): RclClient;
  createService(
    type: string,
    service: string,
    callback: (request: unknown, response: RclServiceResponse) => void,
  ): RclHandle;
  countPublishers(topic: string): number;
  countSubscribers(topic: string): number;
  spin(timeout?: number): void;
  destroySubscription(subscription: RclHandle): void;
  destroyService(service: RclHandle): void;
  destroy(): void;
}

/** The module functions Telekit calls (rclnodejs itself satisfies this; so does a test double). */
export interface RclModule {
  init: (typeof rclnodejs)['init'];
  shutdown: (typeof rclnodejs)['shutdown'];
  isShutdown: (typeof rclnodejs)['isShutdown'];
  Node: new (nodeName: string, namespace?: string) => RclNode;
  QoS: new (history?: number, depth?: number, reliability?: number, durability?: number) => rclnodejs.QoS;
}

/** What to install and source, said once wherever ROS 2 is missing. */
export const ROS_SETUP_HINT =
  'install ROS 2 (Humble, Jazzy or Kilted: https://docs.ros.org), `source /opt/ros/<distro>/setup.bash` in the shell that starts the app, then `npm install rclnodejs` there (its install step generates the message types of the sourced ROS)';

/**
 * Loads rclnodejs, lazily: it is an optional peer dependency and needs a sourced ROS 2. Rejects with
 * `E_ROS_UNAVAILABLE` saying what to install and source.
 */
export async function loadRclnodejs(env: NodeJS.ProcessEnv = process.env): Promise<RclModule> {
  if (!env.ROS_DISTRO || !env.AMENT_PREFIX_PATH)
    throw new TelekitError(
      'E_ROS_UNAVAILABLE',
      `ROS 2 is not sourced (no ROS_DISTRO or AMENT_PREFIX_PATH): ${ROS_SETUP_HINT}`,
      {
        operation: 'setup',
      },
    );
  try {
    const module = (await import('rclnodejs')) as unknown as { default?: RclModule } & RclModule;
    return module.default ?? module;
  } catch (error) {
    throw new TelekitError(
      'E_ROS_UNAVAILABLE',
      `rclnodejs could not be loaded for ROS 2 ${env.ROS_DISTRO}: ${(error as Error).message}; ${ROS_SETUP_HINT}`,
      { operation: 'setup', cause: error },
    );
  }
}
