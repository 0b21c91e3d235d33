export {
  type Ack,
  type EStopInfo,
  GATEWAY_PROTOCOL,
  type LeaseAnswer,
  type LeaseInfo,
  type LinkHealth,
  NAMESPACES,
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
export { type Backplane, type LeaseResult, localBackplane, type Relayed } from './server/backplane.js';
export {
  type ClientLane,
  createGateway,
  type Gateway,
  type GatewayOptions,
} from './server/create-gateway.js';
export { type GatewayPluginOptions, gateway } from './server/gateway-plugin.js';
export { GatewayMetrics } from './server/metrics.js';
export { redisBackplane } from './server/redis-backplane.js';
export { TokenBucket } from './server/token-bucket.js';
