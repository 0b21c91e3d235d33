/**
 * Node-only helpers shared by the plugins that run child processes: `@telekit/core/node`.
 * The main entry stays free of Node's modules, so it bundles for browsers.
 *
 * @module
 */

export { Backoff, type BackoffOptions } from './backoff.js';
export { type HaltOnCrashOptions, haltOnCrash } from './halt-on-crash.js';
export { canTieChildToParent, type SpawnChildOptions, spawnChild } from './spawn-child.js';
