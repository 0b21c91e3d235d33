import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { type Socket as ClientSocket, Manager } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import { packMessage } from '../src/codec.js';

/**
 * The transport's floor: socket.io with the gateway's msgpack parser and a connection per lane,
 * and nothing of Telekit's — no validation, safety, lease, metrics or outboxes. A command arrives
 * on the control connection and `onCommand` answers it with `reply`, which sends back on the
 * telemetry connection as the gateway's `b` frame (topic and msgpack bytes), as the gateway's would.
 */
export async function bareSocketIo(
  onCommand: (command: Record<string, unknown>, reply: (topic: string, message: unknown) => void) => void,
): Promise<{
  control: ClientSocket;
  replies: ClientSocket;
  /** Sends on the telemetry connection, as `reply` does (for an answer that comes later). */
  reply(topic: string, message: unknown): void;
  close(): Promise<void>;
}> {
  const http = createServer();
  const io = new Server(http, { parser: msgpackParser, serveClient: false, transports: ['websocket'] });
  let telemetry: Socket | undefined;
  const reply = (topic: string, message: unknown) => telemetry?.emit('b', [[topic, packMessage(message)]]);
  io.of('/telemetry').on('connection', (s) => {
    telemetry = s;
  });
  io.of('/control').on('connection', (s) => {
    s.on('pub', (_topic: string, command: Record<string, unknown>) => onCommand(command, reply));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const manager = () => new Manager(url, { transports: ['websocket'], parser: msgpackParser });
  const control = manager().socket('/control');
  const replies = manager().socket('/telemetry');
  await Promise.all(
    [control, replies].map((s) => new Promise<void>((resolve) => s.once('connect', () => resolve()))),
  );
  return {
    control,
    replies,
    reply,
    async close() {
      control.disconnect();
      replies.disconnect();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/**
 * The same bare socket.io server with nothing to answer: what socket.io itself holds per client
 * (the memory benchmark's floor, with clients on both namespaces as the gateway's have).
 */
export async function bareSocketIoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer();
  const io = new Server(http, { parser: msgpackParser, serveClient: false, transports: ['websocket'] });
  for (const nsp of ['/control', '/telemetry']) io.of(nsp).on('connection', () => {});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => io.close(() => resolve())),
  };
}
