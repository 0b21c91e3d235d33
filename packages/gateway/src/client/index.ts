export type {
  Ack,
  CommandStage,
  EStopInfo,
  LatencyBudget,
  LeaseAnswer,
  LeaseInfo,
  LinkHealth,
  Percentiles,
  StageFigures,
  Welcome,
  WireError,
} from '../protocol.js';
export { COMMAND_STAGES, GATEWAY_PROTOCOL } from '../protocol.js';
export {
  type ClientLinkHealth,
  type GatewayClient,
  type GatewayClientOptions,
  gatewayClient,
  type PublishOptions,
  type SentCommand,
  SOCKETS,
} from './gateway-client.js';
