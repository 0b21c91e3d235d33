/**
 * A test double of rclnodejs for apps and plugins built on `@telekit/transport-ros`: an in-memory
 * ROS 2 graph, so they can be tested where ROS 2 is not installed.
 *
 * @example
 * ```ts
 * import { createRosTransport } from '@telekit/transport-ros';
 * import { fakeRcl } from '@telekit/transport-ros/testing';
 * const rcl = fakeRcl();
 * const ros = await createRosTransport({ rcl });
 * rcl.node('driver').createPublisher('nav_msgs/msg/Odometry', '/odom').publish(odometry);
 * ```
 *
 * @module
 */
export { FakeGraph, fakeRcl, KNOWN_TYPES } from './fake-rcl.js';
