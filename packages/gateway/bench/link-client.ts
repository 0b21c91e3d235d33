/**
 * Bench helper, run inside the constrained link's namespace: an operator that takes control,
 * watches a telemetry topic (which saturates the link when the gateway publishes enough of it),
 * sends twists at 20 Hz, and measures the round trip of control-lane requests (the clock probe,
 * answered on the control connection). Prints one JSON line with the samples (ms) and the gateway's
 * input→actuation figures for this client.
 *
 * Usage: tsx link-client.ts <url> <shared|separate> <probes>
 */
import { Topics, type Twist } from '@telekit/core';
import type { Socket } from 'socket.io-client';
import { gatewayClient, SOCKETS } from '../src/client/index.js';

const [url, mode, probes] = process.argv.slice(2) as [string, string, string];
const client = gatewayClient({ url, sharedConnection: mode === 'shared' });
await client.connect();
await client.requestControl();
let received = 0;
let bytes = 0;
/** How old each telemetry sample was when it reached the page, ms (the gateway stamps it; one clock). */
const ages: number[] = [];
client.subscribe(Topics.diagnostics, { depth: 64 }).subscribe((d) => {
  received++;
  bytes += d.status.reduce((n, s) => n + s.message.length, 0);
  if (measuring) ages.push(Date.now() - d.header.stamp);
});
let measuring = false;
let health: { p50: number; p99: number; count: number } | null = null;
client.health$.subscribe((h) => {
  health = h.inputToActuation;
});
let seq = 0;
const twist = (): Twist => ({
  header: { seq: seq++, stamp: performance.timeOrigin + performance.now(), sender: 'operator' },
  linear: { x: 0.3, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});
const driving = setInterval(() => client.publish(Topics.twist, twist()), 50);
await new Promise((r) => setTimeout(r, 1_500)); // the link fills up
const control = (client as unknown as { [SOCKETS]: { control: Socket } })[SOCKETS].control;
const samples: number[] = [];
const t0 = performance.now();
const r0 = bytes;
measuring = true;
for (let i = 0; i < Number(probes); i++) {
  const start = performance.now();
  await new Promise<void>((resolve) => control.emit('time', { t0: Date.now() }, () => resolve()));
  samples.push(performance.now() - start);
  await new Promise((r) => setTimeout(r, 20));
}
const seconds = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 1_100)); // the next health report covers the whole run
clearInterval(driving);
measuring = false;
console.log(
  JSON.stringify({ samples, health, received, telemetryBytesPerSecond: (bytes - r0) / seconds, ages }),
);
await client.close();
process.exit(0);
