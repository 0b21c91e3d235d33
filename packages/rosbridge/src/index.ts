/**
 * rosbridge v2 for Telekit: an endpoint on the gateway for unmodified roslibjs and roslibpy UIs.
 *
 * @module
 */
export type { RosbridgeMetrics } from './endpoint-hub.js';
export { SUPPORTED_OPS } from './rosbridge-connection.js';
export {
  attachRosbridge,
  type RosbridgeEndpoint,
  type RosbridgeEndpointOptions,
  rosbridgeEndpoint,
} from './rosbridge-endpoint.js';
export {
  createRosbridgeTransport,
  type RosbridgeTransportOptions,
  rosbridgeTransport,
} from './rosbridge-transport.js';
