/**
 * The lanes' machinery: `@telekit/core/transport`. The `Transport` contract and its feeds,
 * `defineTransport` to write one over a link, the codecs, the `Mailbox` delivery rule every transport
 * reuses, the in-process reference transport and bus, and clock-offset estimation between two peers.
 * `Transport`, `Feed` and `inProcessTransport` are also in `@telekit/core`.
 *
 * @module
 */

export { type OffsetEstimate, OffsetEstimator, type OffsetSample, offsetOf } from '../clock-offset.js';
export { type Codec, jsonCodec, msgpackCodec } from './codec.js';
export {
  type DefinedTransport,
  type DefineTransportOptions,
  defineTransport,
  type Link,
  type LinkEvents,
  type LinkFrame,
  type LinkStats,
  type ReconnectOptions,
} from './define-transport.js';
export { Encoded } from './encoded.js';
export {
  createInProcessBus,
  type InProcessBus,
  type InProcessBusOptions,
  type InProcessTransportOptions,
  inProcessTransport,
  type Schedule,
} from './in-process-transport.js';
export { Mailbox, type MailboxPolicy } from './mailbox.js';
export type {
  ConnectionState,
  ConnectionStatus,
  Feed,
  FeedStats,
  SubscribeOptions,
  Transport,
  TransportCapabilities,
  TransportFault,
} from './transport.js';
