// A page that drives over the gateway client with its defaults (controlLane 'auto', the page's own
// RTCPeerConnection), for the DataChannel lane's Chromium test: it takes control and sends a twist
// every 20 ms; window.lanePage says what link health says.
import { Topics } from '@telekit/core';
import { type ClientLinkHealth, gatewayClient } from '../../src/client/index.js';

const client = gatewayClient({ url: location.origin });
const state: {
  health?: Pick<ClientLinkHealth, 'controlLane' | 'lane' | 'dataChannel' | 'fates'>;
  sent: Record<string, number>;
  error?: string;
} = { sent: {} };
(window as unknown as { lanePage: typeof state }).lanePage = state;
client.health$.subscribe((h) => {
  state.health = { controlLane: h.controlLane, lane: h.lane, dataChannel: h.dataChannel, fates: h.fates };
});
client.sent$.subscribe((s) => {
  state.sent[s.lane] = (state.sent[s.lane] ?? 0) + 1;
});
try {
  await client.connect();
  await client.requestControl();
  let seq = 0;
  setInterval(() => {
    const now = performance.timeOrigin + performance.now();
    client.publish(
      Topics.twist,
      {
        header: { seq: seq++, stamp: now, sender: 'page' },
        linear: { x: 0.3, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      },
      { inputAt: now },
    );
  }, 20);
} catch (error) {
  state.error = String(error);
}
