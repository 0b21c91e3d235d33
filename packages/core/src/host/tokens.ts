import type { Clock } from '../clock.js';
import type { MediaDemand } from '../contracts/media-demand.js';
import type { MediaSignalling } from '../contracts/media-signalling.js';
import type { MediaSource } from '../contracts/media-source.js';
import type { Simulator } from '../contracts/simulator.js';
import type { Transport } from '../transport/transport.js';
import type { Logger } from './logger.js';
import { token } from './token.js';

/** The app's transport: where control, telemetry and media signalling flow. */
export const TransportToken = token<Transport>('@telekit/core/Transport');
/** The app's simulator, when it has one. */
export const SimulatorToken = token<Simulator>('@telekit/core/Simulator');
/** The app's media sources, by stream id. */
export const MediaSourcesToken = token<ReadonlyMap<string, MediaSource>>('@telekit/core/MediaSources');
/** The app's clock (always provided by the host). */
export const ClockToken = token<Clock>('@telekit/core/Clock');
/** The app's root logger (always provided by the host). */
export const LoggerToken = token<Logger>('@telekit/core/Logger');
/** Answers viewers' media signalling (provided by the media plugin, used by the gateway). */
export const MediaSignallingToken = token<MediaSignalling>('@telekit/core/MediaSignalling');
/** Who wants which video stream: the media plugin's demand, for plugins that consume its streams (a recorder, a Foxglove endpoint). */
export const MediaDemandToken = token<MediaDemand>('@telekit/core/MediaDemand');
