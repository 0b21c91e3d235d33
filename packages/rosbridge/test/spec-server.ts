import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A small rosbridge v2 server that follows the protocol document as a relay, standing in for
 * `rosbridge_server` where ROS 2 cannot run: `publish` goes to every client subscribed to the topic,
 * a latched advertisement keeps the last message for late subscribers, `subscribe` with the same id
 * twice is one subscription. No ROS graph behind it, no services.
 */
export async function startSpecServer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const subs = new Map<string, Map<WebSocket, Set<string>>>();
  const latched = new Map<string, string>();
  const latching = new Set<string>();
  const norm = (n: unknown) => `/${String(n).replace(/^\/+/, '')}`;
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        ws.send(JSON.stringify({ op: 'status', level: 'error', msg: 'not JSON' }));
        return;
      }
      const topic = norm(f.topic);
      switch (f.op) {
        case 'advertise':
          if (f.latch === true) latching.add(topic);
          break;
        case 'subscribe': {
          const by = subs.get(topic) ?? new Map<WebSocket, Set<string>>();
          subs.set(topic, by);
          const ids = by.get(ws) ?? new Set<string>();
          ids.add(String(f.id ?? ''));
          by.set(ws, ids);
          const last = latched.get(topic);
          if (last) ws.send(last);
          break;
        }
        case 'unsubscribe':
          subs.get(topic)?.delete(ws);
          break;
        case 'publish': {
          const out = JSON.stringify({ op: 'publish', topic: f.topic, msg: f.msg });
          if (latching.has(topic)) latched.set(topic, out);
          for (const peer of subs.get(topic)?.keys() ?? []) if (peer.readyState === 1) peer.send(out);
          break;
        }
        default:
          ws.send(
            JSON.stringify({ op: 'status', level: 'error', id: f.id, msg: `unsupported op ${String(f.op)}` }),
          );
      }
    });
    ws.on('close', () => {
      for (const by of subs.values()) by.delete(ws);
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    url,
    /** Cuts every client's socket (they must reconnect and subscribe again). */
    dropAll() {
      for (const ws of wss.clients) ws.terminate();
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
