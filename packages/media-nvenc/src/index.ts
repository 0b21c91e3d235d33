/** p50/p99 over a sliding window: `@telekit/core`'s, re-exported (they were this package's own). */
export { type Percentiles, percentiles, TimeWindow } from '@telekit/core';
export {
  type AccessUnit,
  type AccessUnitTap,
  type AccessUnitTapOptions,
  AccessUnitTapToken,
  createAccessUnitTap,
} from './access-unit-tap.js';
export {
  type EncoderArgsOptions,
  type EncoderInput,
  type EncoderName,
  type EncoderProfile,
  encoderArgs,
  profiles,
} from './encoder-args.js';
export { H264Depacketizer, rtpPayload } from './h264-depacketizer.js';
export type { H264Source } from './h264-source.js';
export { hlsRoute } from './hls-route.js';
export {
  createMediaDemand,
  type DemandLevel,
  type MediaDemand,
  type MediaDemandOptions,
  MediaDemandToken,
  type Release,
} from './media-demand.js';
export {
  type MediaHealthData,
  type MediaPluginOptions,
  nvencMedia,
  type StreamOptions,
} from './media-plugin.js';
export {
  createMediaSignalling,
  DEFAULT_MEDIA_LIMITS,
  type MediaLimits,
  type MediaSignallingOptions,
  STATS_FRAMES_MS,
  type ViewerFrames,
} from './media-signalling.js';
export { freeTcpPort } from './ports.js';
export { chooseEncoder, probeEncoder } from './probe-encoder.js';
export { CpuRate, processCpuMs } from './process-cpu.js';
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
  type MediaCpu,
  type MonitoredStream,
  type SignalState,
  StreamMonitor,
  type StreamMonitorOptions,
  type StreamStats,
  type ViewerStats,
} from './stream-monitor.js';
export { StreamRunner, type StreamRunnerOptions } from './stream-runner.js';
export {
  type EncoderStats,
  type EncoderStatus,
  freeUdpPortPair,
  SupervisedEncoder,
  type SupervisedEncoderOptions,
} from './supervised-encoder.js';
export {
  type FrameTiming,
  SERVER_VIDEO_STAGES,
  type ServerFrame,
  type ServerVideoBudget,
  VIDEO_STAGES,
  type VideoStage,
  type VideoStageFigures,
  VideoTimeline,
  type VideoTimelineOptions,
} from './video-timeline.js';
export { type TraceSampling, VideoTracer, type VideoTracerOptions } from './video-tracer.js';
export {
  createWorker,
  type EnsureWorkerOptions,
  ensureWorkerBin,
  findWorkerBin,
  loadMediasoup,
  MEDIASOUP_VERSION,
  resolveWorkerBin,
  type WorkerLocation,
  type WorkerProgress,
  workerCachePath,
  workerProgressLine,
} from './worker.js';
