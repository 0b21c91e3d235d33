import { packageBuild } from '../../tsdown.shared.ts';

// Neutral: the mqtt client runs in Node (TCP, TLS) and in browsers (MQTT over WebSocket).
export default packageBuild({ index: 'src/index.ts' });
