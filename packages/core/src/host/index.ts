/**
 * The plugin host: `@telekit/core/host`. `createApp` and its app, the `Plugin` shape and the context
 * a plugin's `setup` gets, dependency-injection tokens and the well-known ones, `inProcess()` and the
 * loggers. The daily names are also in `@telekit/core`; the health and log-detail types are here only.
 *
 * @module
 */

export { type App, type AppHealth, type AppOptions, type AppState, createApp } from './create-app.js';
export { inProcess } from './in-process-plugin.js';
export { consoleLogger, type LogFields, type Logger, type LogLevel, silentLogger } from './logger.js';
export type {
  AppHealthReport,
  HealthReport,
  Plugin,
  PluginContext,
  PluginKind,
  Teardown,
} from './plugin.js';
export { type Token, token } from './token.js';
export {
  ClockToken,
  LoggerToken,
  MediaDemandToken,
  MediaSignallingToken,
  MediaSourcesToken,
  SimulatorToken,
  TransportToken,
} from './tokens.js';
