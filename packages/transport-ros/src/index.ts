/**
 * Telekit's streams on a ROS 2 graph, through rclnodejs (an optional peer dependency, loaded only
 * when the transport starts).
 *
 * @module
 */
export {
  imageToFrame,
  type RawImage,
  type RosImageSourceOptions,
  readCompressedImage,
  readImage,
  rosImageSource,
} from './image-source.js';
export {
  type DefaultMappingOptions,
  defaultMappings,
  envelope,
  type FromRosMapping,
  fromRos,
  type MappingBase,
  type QosSpec,
  type RosMapping,
  remap,
  SENSOR_QOS,
  type ToRosMapping,
  toRos,
} from './mapping.js';
export * as RosMessages from './messages.js';
export { type RosTransportPluginOptions, rosTransport } from './plugin.js';
export {
  loadRclnodejs,
  type RclClient,
  type RclHandle,
  type RclModule,
  type RclNode,
  type RclPublisher,
  type RclServiceResponse,
  ROS_SETUP_HINT,
} from './rcl.js';
export {
  createRosTransport,
  type RosMappingError,
  type RosTopicState,
  type RosTopicStats,
  type RosTransport,
  type RosTransportOptions,
} from './ros-transport.js';
