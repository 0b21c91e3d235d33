export {
  type Ack,
  type ClientEvent,
  type ClientLane,
  type DataLaneState,
  type EStopInfo,
  GATEWAY_PROTOCOL,
  type LatencyBudget,
  type LeaseAnswer,
  type LeaseInfo,
  type LinkHealth,
  NAMESPACES,
  type Percentiles,
  type StageFigures,
  type Welcome,
  type WireError,
} from './protocol.js';
export {
  type AccessList,
  AuthError,
  allowed,
  allowPublishing,
  defaultAccessList,
  type JwtVerifierOptions,
  jwtVerifier,
  openAccess,
  type Principal,
  signToken,
  type TopicRules,
  type Verifier,
} from './server/auth.js';
export {
  type Backplane,
  type LeaseResult,
  localBackplane,
  type Relayed,
  type Who,
} from './server/backplane.js';
export { BucketHistogram, type ExposedHistogram } from './server/bucket-histogram.js';
export {
  type CommandFate,
  createGateway,
  type Gateway,
  type GatewayClientInfo,
  type GatewayOptions,
} from './server/create-gateway.js';
export type { DataChannelOptions } from './server/data-lane.js';
export { type GatewayPluginOptions, GatewayToken, gateway } from './server/gateway-plugin.js';
export { CLIENT_EVENTS } from './server/handlers.js';
export type { RouteAccess, RouteHandler, UpgradeHandler } from './server/http-surface.js';
export { defaultLimits, type GatewayLimits, type Rate } from './server/limits.js';
export { GatewayMetrics } from './server/metrics.js';
export type { GatewayDoor, GatewayPeer, PeerAnswer } from './server/peer.js';
export { redisBackplane } from './server/redis-backplane.js';
export { TokenBucket } from './server/token-bucket.js';
