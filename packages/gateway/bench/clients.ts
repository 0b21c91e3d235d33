/**
 * Bench helper, run as its own process so that the clients' work does not share the gateway's
 * event loop: connects N clients (Telekit gateway clients, raw `ws` clients, or bare socket.io
 * clients on both lanes' namespaces), subscribes them to a topic and counts what they receive.
 *
 * Usage: tsx clients.ts <gateway|ws|socket.io> <url> <n> <topic>
 * stdin: `count` → prints `count <total received>`; `exit` → closes and exits.
 */
import { createInterface } from 'node:readline';
import { topicByName } from '@telekit/core';
import { Manager } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import WebSocket from 'ws';
import { gatewayClient } from '../src/client/index.js';

const [mode, url, n, topicName] = process.argv.slice(2) as [string, string, string, string];
let received = 0;
const closers: (() => Promise<void> | void)[] = [];

if (mode === 'gateway') {
  const topic = topicByName(topicName)!;
  // A few at a time: the gateway admits 16 unauthenticated connections per address, and on a
  // loaded machine a hundred handshakes at once would be refused and retried past the timeout.
  for (let i = 0; i < Number(n); i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, Number(n) - i) }, async () => {
        const c = gatewayClient({ url, connectTimeoutMs: 60_000 });
        await c.connect();
        c.subscribe(topic, { depth: 64 }).subscribe(() => received++);
        closers.push(() => c.close());
      }),
    );
  }
} else if (mode === 'socket.io') {
  await Promise.all(
    Array.from({ length: Number(n) }, async () => {
      const sockets = ['/control', '/telemetry'].map((nsp) =>
        new Manager(url, { transports: ['websocket'], parser: msgpackParser }).socket(nsp),
      );
      await Promise.all(
        sockets.map((s) => new Promise<void>((resolve) => s.once('connect', () => resolve()))),
      );
      for (const s of sockets) s.on('b', () => received++);
      closers.push(() => {
        for (const s of sockets) s.disconnect();
      });
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
