export {
  type ExportProgress,
  exportLeRobot,
  type LeRobotExportOptions,
  type LeRobotExportResult,
} from './lerobot/export.js';
export {
  ARM_MAPPING,
  DIFF_DRIVE_MAPPING,
  LEROBOT_PRESETS,
  type LeRobotField,
  type LeRobotMapping,
  parseFieldList,
} from './lerobot/mapping.js';
export { type ChannelDef, FLUSH_CHANNEL, McapFile } from './mcap-file.js';
export {
  type DecompressHandlers,
  decompressHandlers,
  type RecordedMessage,
  type Recording,
  readRecording,
} from './read-recording.js';
export {
  type Recorder,
  type RecorderOptions,
  type RecorderStatus,
  RecorderToken,
  type RecorderVideoTap,
  RecorderVideoTapToken,
  recorder,
} from './recorder-plugin.js';
export {
  EpisodeTask,
  MAX_TASK_LENGTH,
  RecorderRequestMessage,
  RecorderStatusMessage,
  RecorderTopics,
} from './recorder-topics.js';
export { createReplay, type Replay, type ReplayOptions, ReplayToken, replay } from './replay.js';
export {
  type RecordedVideoStream,
  type ReplayPluginsOptions,
  recordedVideoStreams,
  replayPlugins,
} from './replay-plugins.js';
export {
  COMMAND_FATE_CHANNEL,
  CommandFateRecord,
  EPISODE_CHANNEL,
  ESTOP_CHANNEL,
  EStopRecord,
  LEASE_CHANNEL,
  LeaseRecord,
  LINK_CHANNEL,
  SNAPSHOT_CHANNEL,
  STATS_CHANNEL,
  topicChannel,
  videoChannel,
} from './schemas.js';
export { type EntryClass, WriteQueue, type WriteQueueStats } from './write-queue.js';
