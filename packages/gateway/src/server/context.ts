import type { Clock, Logger, Topic, Transport } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import type { Subject } from 'rxjs';
import type { AccessList, Verifier } from './auth.js';
import type { Backplane } from './backplane.js';
import type { CommandPipeline } from './command-pipeline.js';
import type { DataLanes } from './data-lane.js';
import type { FanOut } from './fan-out.js';
import type { CommandFate } from './gateway-options.js';
import type { GatewayLimits, RateLimiter } from './limits.js';
import type { LoadMonitor } from './load-monitor.js';
import type { GatewayMetrics } from './metrics.js';
import type { Sessions } from './session.js';

/**
 * What the gateway's parts share: made once by `createGateway`, handed to each part. Parts own
 * nothing in it; `createGateway` closes it in reverse order of making.
 */
export interface GatewayContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly transport: Transport;
  readonly backplane: Backplane;
  readonly verify: Verifier;
  /** The access list, grants from plugins included. */
  acl(): AccessList;
  /** Every topic clients may use, by name (built in, from options, from plugins). */
  readonly topics: Map<string, Topic>;
  readonly sessions: Sessions;
  readonly limiter: RateLimiter;
  readonly limits: GatewayLimits;
  readonly maxPayloadBytes: number;
  readonly pipeline: CommandPipeline;
  readonly fanOut: FanOut;
  readonly load: LoadMonitor;
  readonly media: MediaSignalling | undefined;
  /** Each published message's fate (`Gateway.commandFates$`): emit only while `observed`. */
  readonly fates: Subject<CommandFate>;
  /** The DataChannel control lane, unless turned off (`dataChannel: false`). */
  dataLanes?: DataLanes;
}
