/**
 * Measuring video: `@telekit/core/media`. Glass-to-glass stamps written into the picture and read
 * back from it, and the named stages of a frame's trip that the media plugin and a viewer time. (The
 * `MediaSource`, `MediaDemand` and `MediaSignalling` contracts are `@telekit/core/contracts`'.)
 *
 * @module
 */

export {
  readStamp,
  STAMP_BITS,
  stampBlockSize,
  stampFrame,
  stampLatency,
  stampRegion,
} from './frame-stamp.js';
export {
  SERVER_VIDEO_STAGES,
  type StagePercentiles,
  VIDEO_STAGES,
  type VideoStage,
  type VideoStageFigures,
} from './video-stages.js';
