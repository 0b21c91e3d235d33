export type { Ack, EStopInfo, LeaseAnswer, LeaseInfo, LinkHealth, Welcome, WireError } from '../protocol.js';
export { GATEWAY_PROTOCOL } from '../protocol.js';
export {
  type ClientLinkHealth,
  type GatewayClient,
  type GatewayClientOptions,
  gatewayClient,
  SOCKETS,
} from './gateway-client.js';
