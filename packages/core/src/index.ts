// Errors

// Time
export { type Clock, type ManualClock, manualClock, systemClock } from './clock.js';
export { type OffsetEstimate, OffsetEstimator, type OffsetSample, offsetOf } from './clock-offset.js';
export { actuationReport, headerSequence, isZeroTwist, zeroTwist } from './commands.js';
// Contracts
export type { DemandLevel, MediaDemand, Release } from './contracts/media-demand.js';
export type { MediaSignalling } from './contracts/media-signalling.js';
export {
  type Frame,
  frameByteLength,
  type MediaSource,
  type MediaSourceInfo,
  type PixelFormat,
} from './contracts/media-source.js';
export type {
  BaseState,
  SceneInfo,
  SceneSpec,
  SimAction,
  SimActuation,
  SimSnapshot,
  Simulator,
  SimulatorCapabilities,
  SimulatorState,
} from './contracts/simulator.js';
export { errorCodes, type KnownErrorCode } from './error-codes.js';
export {
  attributeError,
  type ErrorCode,
  isTelekitError,
  TelekitError,
  type TelekitErrorOptions,
} from './errors.js';
// Plugin host
export { type App, type AppHealth, type AppOptions, type AppState, createApp } from './host/create-app.js';
export { inProcess } from './host/in-process-plugin.js';
export { consoleLogger, type LogFields, type Logger, type LogLevel, silentLogger } from './host/logger.js';
export type {
  AppHealthReport,
  HealthReport,
  Plugin,
  PluginContext,
  PluginKind,
  Teardown,
} from './host/plugin.js';
export { type Token, token, tokenName } from './host/token.js';
export {
  ClockToken,
  LoggerToken,
  MediaDemandToken,
  MediaSignallingToken,
  MediaSourcesToken,
  SimulatorToken,
  TransportToken,
} from './host/tokens.js';
export {
  readStamp,
  STAMP_BITS,
  stampBlockSize,
  stampFrame,
  stampLatency,
  stampRegion,
} from './media/frame-stamp.js';
// Media
export {
  SERVER_VIDEO_STAGES,
  type StagePercentiles,
  VIDEO_STAGES,
  type VideoStage,
  type VideoStageFigures,
} from './media/video-stages.js';
export {
  ControlLease,
  type ControlLeaseOptions,
  type LeaseChange,
  type LeaseChangeReason,
  type LeaseClient,
  type LeaseDecision,
  type LeaseHolder,
  type Role,
} from './safety/control-lease.js';
// Safety
export { checkDeadline, type DeadlineOptions, type DeadlineVerdict } from './safety/deadline.js';
export { type DeadmanOptions, deadman } from './safety/deadman.js';
export { EStopLatch, type EStopState, estopGate } from './safety/estop-latch.js';
export {
  type GateVerdict,
  type LeaseCheck,
  type SafetyEvent,
  SafetyGate,
  type SafetyGateOptions,
  type SafetyGateStats,
} from './safety/safety-gate.js';
// Protocol: schemas, topics, validation
export {
  finite,
  Header,
  list,
  MAX_ITEMS,
  MAX_NAME_LENGTH,
  message,
  name,
  Quaternion,
  Vector3,
} from './schemas/common.js';
export { Action, EStop, Gamepad, JointCommand, Twist } from './schemas/control.js';
export { exampleMessages } from './schemas/examples.js';
export { PROTOCOL_VERSION, protocolSchemas } from './schemas/json-schema.js';
export {
  MediaConnect,
  MediaConsume,
  MediaConsumer,
  MediaEmpty,
  MediaJoin,
  MediaJoined,
  MediaResume,
  MediaStats,
  MediaStreams,
  MediaTransport,
  ServerFrame,
  StreamInfo,
  StreamStats,
  ViewerStats,
} from './schemas/media.js';
export {
  Actuation,
  Battery,
  BodyState,
  CommandFate,
  DiagnosticStatus,
  Diagnostics,
  Imu,
  JointState,
  MAX_SCENE_BASE64,
  MAX_SCENE_ITEMS,
  Pose,
  SceneBody,
  SceneGeom,
  SceneLight,
  SceneMaterial,
  SceneMesh,
  SceneTexture,
  SceneView,
  SimScene,
  SimState,
} from './schemas/telemetry.js';
export {
  type AnswerOf,
  DEFAULT_DEPTH,
  DEFAULT_TTL_MS,
  defineTopic,
  type Lane,
  type MessageOf,
  type Topic,
} from './schemas/topic.js';
export { builtinTopics, Topics, topicByName } from './schemas/topics.js';
export {
  type CheckResult,
  checkMessage,
  type FieldIssue,
  isValidated,
  parseMessage,
  ValidationError,
} from './schemas/validate.js';
export { type Codec, jsonCodec, msgpackCodec } from './transport/codec.js';
export {
  type DefinedTransport,
  type DefineTransportOptions,
  defineTransport,
  type Link,
  type LinkEvents,
  type LinkFrame,
  type LinkStats,
  type ReconnectOptions,
} from './transport/define-transport.js';
export {
  createInProcessBus,
  type InProcessBus,
  type InProcessBusOptions,
  type InProcessTransportOptions,
  inProcessTransport,
  type Schedule,
} from './transport/in-process-transport.js';
export { Mailbox, type MailboxPolicy } from './transport/mailbox.js';
// Transport
export type {
  ConnectionState,
  ConnectionStatus,
  Feed,
  FeedStats,
  SubscribeOptions,
  Transport,
  TransportCapabilities,
  TransportFault,
} from './transport/transport.js';
