import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The baseline: a bare `ws` server with JSON messages and nothing else — no validation, no lanes,
 * no safety, no auth. What a hand-rolled bridge does.
 */
export async function rawWsServer(
  onCommand: (command: Record<string, unknown>, reply: (m: unknown) => void) => void,
) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data) => {
      const command = JSON.parse(String(data)) as Record<string, unknown>;
      onCommand(command, (m) => ws.send(JSON.stringify(m)));
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    broadcast(message: unknown) {
      const data = JSON.stringify(message);
      for (const c of wss.clients) c.send(data);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
