export {
  type EncoderArgsOptions,
  type EncoderInput,
  type EncoderName,
  type EncoderProfile,
  encoderArgs,
  profiles,
} from './encoder-args.js';
export { type MediaPluginOptions, nvencMedia, type StreamOptions } from './media-plugin.js';
export {
  createMediaSignalling,
  DEFAULT_MEDIA_LIMITS,
  type MediaLimits,
  type MediaSignallingOptions,
} from './media-signalling.js';
export { freeTcpPort } from './ports.js';
export { chooseEncoder, probeEncoder } from './probe-encoder.js';
export {
  type ConsumerInfo,
  createSfu,
  H264_CODEC,
  INGEST_IP,
  type Sfu,
  type SfuOptions,
  type SfuStream,
  type ViewerTransportInfo,
} from './sfu.js';
export {
  type MonitoredStream,
  type SignalState,
  StreamMonitor,
  type StreamMonitorOptions,
  type StreamStats,
  type ViewerStats,
} from './stream-monitor.js';
export {
  type EncoderStats,
  type EncoderStatus,
  freeUdpPortPair,
  SupervisedEncoder,
} from './supervised-encoder.js';
export { createWorker, loadMediasoup, MEDIASOUP_VERSION, resolveWorkerBin } from './worker.js';
