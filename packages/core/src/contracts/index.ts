/**
 * The contracts a simulator or a media plugin implements, and the types that travel with them:
 * `@telekit/core/contracts`. `Simulator` with its actions, snapshots and scene types; `MediaSource`
 * with its frames; `MediaDemand` and `MediaSignalling`, through which the media plugin and the
 * gateway meet. (`Transport` is `@telekit/core/transport`'s.)
 *
 * @module
 */

export type { DemandLevel, MediaDemand, Release } from './media-demand.js';
export type { MediaSignalling } from './media-signalling.js';
export {
  type Frame,
  frameByteLength,
  type MediaSource,
  type MediaSourceInfo,
  type PixelFormat,
} from './media-source.js';
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
} from './simulator.js';
