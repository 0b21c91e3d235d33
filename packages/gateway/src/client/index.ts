export type {
  Ack,
  CommandStage,
  ControlLane,
  DataLaneState,
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
  type ControlLaneInfo,
  type DataChannelInfo,
  type GatewayClient,
  type GatewayClientOptions,
  gatewayClient,
  type PublishOptions,
  type RtcPeerConnectionFactory,
  type SentCommand,
  SOCKETS,
} from './gateway-client.js';
