/**
 * Bench helper, run inside the emulated link's namespace (network.bench.ts): an operator that takes
 * control over one lane (`socket.io` or `datachannel`), watches the telemetry topic the gateway
 * floods, and sends a twist every 20 ms (50 Hz) for the given seconds. Prints one JSON line: each
 * command's seq and the moment it was sent (wall clock, ms), the lane it left on, and the telemetry
 * it received.
 *
 * Usage: tsx network-operator.ts <url> <socket.io|datachannel> <seconds>
 */
import { Topics, type Twist } from '@telekit/core';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { gatewayClient } from '../src/client/index.js';

const [url, lane, seconds] = process.argv.slice(2) as [string, 'socket.io' | 'datachannel', string];
const now = () => performance.timeOrigin + performance.now();
const client = gatewayClient({
  url,
  controlLane: lane,
  connectTimeoutMs: 20_000,
  rtc: {
    peerConnection: (c) => new RTCPeerConnection(c) as unknown as globalThis.RTCPeerConnection,
    openTimeoutMs: 10_000,
  },
});
await client.connect();
await client.requestControl();
if (lane === 'datachannel')
  await firstValueFrom(
    client.lane$.pipe(
      filter((l) => l.lane === 'datachannel'),
      timeout(20_000),
    ),
  );
let bytes = 0;
client.subscribe(Topics.diagnostics, { depth: 64 }).subscribe((d) => {
  bytes += d.status.reduce((n, s) => n + s.message.length, 0);
});
await new Promise((r) => setTimeout(r, 1_000)); // telemetry fills the link
const sent: [number, number][] = [];
const lanes: Record<string, number> = {};
client.sent$.subscribe((s) => {
  lanes[s.lane] = (lanes[s.lane] ?? 0) + 1;
});
let seq = 1;
const b0 = bytes;
const t0 = performance.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const at = now();
    const twist: Twist = {
      header: { seq, stamp: at, sender: 'operator' },
      linear: { x: 0.3 + (seq % 2) * 0.01, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    };
    sent.push([seq++, at]);
    client.publish(Topics.twist, twist, { inputAt: at });
    if (performance.now() - t0 >= Number(seconds) * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, 20);
});
const telemetry = (bytes - b0) / ((performance.now() - t0) / 1000);
await new Promise((r) => setTimeout(r, 1_500)); // the last commands land
console.log(JSON.stringify({ sent, lanes, telemetryBytesPerSecond: telemetry }));
await client.close();
process.exit(0);
