export {
  battery,
  type DescribeTransportOptions,
  describeTransport,
  settle,
  type TransportHarness,
  transportKitTopics,
  twist,
} from './describe-transport.js';
export { type DescribeSimulatorOptions, describeSimulator } from './describe-simulator.js';
export { type DescribeMediaSourceOptions, describeMediaSource } from './describe-media-source.js';
export { missingRequirement, type SkipEntry, skipReason } from './skips.js';
