/**
 * The protocol: `@telekit/core/schemas`. Every message schema (control, telemetry, scene, media
 * signalling), the building blocks to write new ones, topics and their definitions, validation, the
 * protocol's JSON Schema and an example of each message. The daily names are also in `@telekit/core`.
 *
 * @module
 */

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
} from './common.js';
export { Action, EStop, Gamepad, JointCommand, Twist } from './control.js';
export { exampleMessages } from './examples.js';
export { PROTOCOL_VERSION, protocolSchemas } from './json-schema.js';
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
} from './media.js';
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
} from './telemetry.js';
export {
  type AnswerOf,
  DEFAULT_DEPTH,
  DEFAULT_TTL_MS,
  defineTopic,
  type Lane,
  type MessageOf,
  type Topic,
} from './topic.js';
export { builtinTopics, Topics, topicByName } from './topics.js';
export {
  type CheckResult,
  checkMessage,
  type FieldIssue,
  isValidated,
  parseMessage,
  ValidationError,
} from './validate.js';
