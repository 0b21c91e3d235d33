export { type DescribeMediaSourceOptions, describeMediaSource } from './describe-media-source.js';
export { type DescribeSimulatorOptions, describeSimulator, pixelStdDev } from './describe-simulator.js';
export {
  battery,
  type DescribeTransportOptions,
  describeTransport,
  settle,
  type TransportHarness,
  transportKitTopics,
  twist,
} from './describe-transport.js';
export {
  eventually,
  firstWithin,
  KitExpectationError,
  missingRequirement,
  type SkipEntry,
  skipReason,
  within,
} from './skips.js';
