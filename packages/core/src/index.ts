/**
 * What an app or a plugin author uses every day: the host and its tokens, errors, time, the topics
 * and the messages every robot has, the `Transport`, `Simulator` and `MediaSource` contracts, and the
 * in-process transport. Everything else is in a subpath, named after the directory that defines it:
 * `@telekit/core/contracts`, `/host`, `/media`, `/safety`, `/schemas`, `/transport`, and `/node`
 * for the Node-only helpers. This entry stays free of Node's modules, so it bundles for browsers.
 *
 * @module
 */

// Each group's comment is followed by a blank line, so that Biome sorts within a group only.

// Errors: the one error class, its brand check, and the codes on the wire.

export { errorCodes, type KnownErrorCode } from './error-codes.js';
export { type ErrorCode, isTelekitError, TelekitError, type TelekitErrorOptions } from './errors.js';

// Time: the injected clock, one to drive by hand in tests, and p50/p99 over a sliding window.

export { type Clock, type ManualClock, manualClock, systemClock } from './clock.js';
export { type Percentiles, percentiles, TimeWindow } from './time-window.js';

// Commands: headers, the stop command, and what happened to a command.

export { actuationReport, headerSequence, isZeroTwist, zeroTwist } from './commands.js';

// Plugin host: the app, the plugin shape, tokens and the well-known ones, loggers. More in `/host`.

export { type App, type AppOptions, createApp } from './host/create-app.js';
export { inProcess } from './host/in-process-plugin.js';
export { consoleLogger, type Logger, silentLogger } from './host/logger.js';
export type { HealthReport, Plugin, PluginContext, Teardown } from './host/plugin.js';
export { type Token, token } from './host/token.js';
export {
  ClockToken,
  LoggerToken,
  MediaDemandToken,
  MediaSignallingToken,
  MediaSourcesToken,
  SimulatorToken,
  TransportToken,
} from './host/tokens.js';

// Contracts a plugin implements (their helper types are in `/contracts`; `Transport` is below).

export type { MediaSource } from './contracts/media-source.js';
export type { Simulator } from './contracts/simulator.js';

// Topics and messages: the built-in topics, defining one, validating a message, and the schemas
// every robot uses. Every other schema and the protocol's JSON Schema are in `/schemas`.

export { Header } from './schemas/common.js';
export { Twist } from './schemas/control.js';
export { JointState, Pose } from './schemas/telemetry.js';
export {
  type AnswerOf,
  DEFAULT_DEPTH,
  DEFAULT_TTL_MS,
  defineTopic,
  type Lane,
  type MessageOf,
  type Topic,
} from './schemas/topic.js';
export { Topics, topicByName } from './schemas/topics.js';
export { type CheckResult, checkMessage, parseMessage, ValidationError } from './schemas/validate.js';

// Transport: the contract, and the in-process reference transport and bus. Writing a transport
// (`defineTransport`, codecs, `Mailbox`) and clock-offset estimation are in `/transport`.

export {
  createInProcessBus,
  type InProcessBus,
  inProcessTransport,
} from './transport/in-process-transport.js';
export type { ConnectionState, Feed, SubscribeOptions, Transport } from './transport/transport.js';
