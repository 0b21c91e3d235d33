/**
 * Bench helper, run as its own process so that the clients' work does not share the gateway's
 * event loop: connects N clients (Telekit gateway clients, or raw `ws` clients), subscribes them
 * to a topic and counts what they receive.
 *
 * Usage: tsx clients.ts <gateway|ws> <url> <n> <topic>
 * stdin: `count` → prints `count <total received>`; `exit` → closes and exits.
 */
import { createInterface } from 'node:readline';
import { topicByName } from '@telekit/core';
import WebSocket from 'ws';
import { gatewayClient } from '../src/client/index.js';

const [mode, url, n, topicName] = process.argv.slice(2) as [string, string, string, string];
let received = 0;
const closers: (() => Promise<void> | void)[] = [];

if (mode === 'gateway') {
  const topic = topicByName(topicName)!;
  await Promise.all(
    Array.from({ length: Number(n) }, async () => {
      const c = gatewayClient({ url });
      await c.connect();
      c.subscribe(topic, { depth: 64 }).subscribe(() => received++);
      closers.push(() => c.close());
    }),
  );
} else {
  await Promise.all(
    Array.from(
      { length: Number(n) },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url);
          ws.on('open', () => resolve());
          ws.on('error', reject);
          ws.on('message', (data) => {
            JSON.parse(String(data));
            received++;
          });
          closers.push(() => ws.close());
        }),
    ),
  );
}
// Let the subscriptions reach the server.
await new Promise((r) => setTimeout(r, 300));
console.log('ready');
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'count') console.log(`count ${received}`);
  if (line === 'exit') {
    await Promise.all(closers.map((c) => c()));
    process.exit(0);
  }
});
