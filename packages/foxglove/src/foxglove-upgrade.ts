/**
 * How a Foxglove client gets in: its WebSocket upgrade request checked (a subprotocol it offers, room
 * at its address, a token the gateway's verifier accepts — else an HTTP refusal before any data),
 * then the socket wired to a {@link FoxgloveConnection} that lives until either side closes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@telekit/core';
import type { Gateway, GatewayPeer } from '@telekit/gateway';
import type { WebSocketServer } from 'ws';
import { type ConnectionContext, FoxgloveConnection } from './foxglove-connection.js';
import { StatusLevel, SUBPROTOCOLS } from './wire.js';

/** What admitting a client needs of the endpoint. */
export interface Admission {
  gateway: Gateway;
  wss: WebSocketServer;
  logger: Logger;
  connections: Set<FoxgloveConnection>;
  context: Omit<ConnectionContext, 'maxPayloadBytes'>;
  /** The first frames a client gets (`serverInfo`, then `advertise`). */
  hello(c: FoxgloveConnection): void;
  /** A client joined / the last one left. */
  busy(): void;
  idle(): void;
}

const refuse = (socket: Duplex, status: string, why: string) => {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${why}\n`);
  else socket.destroy();
};

/** Admits one upgrade request, or refuses it with the HTTP status and the reason. */
export async function admit(a: Admission, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!SUBPROTOCOLS.some((p) => offered.includes(p)))
    return refuse(socket, '400 Bad Request', `offer a subprotocol: ${SUBPROTOCOLS.join(' or ')}`);
  let door: ReturnType<Gateway['door']>;
  try {
    door = a.gateway.door(req.socket.remoteAddress ?? 'unknown');
  } catch (error) {
    return refuse(socket, '429 Too Many Requests', (error as Error).message);
  }
  socket.once('close', () => door.close());
  const url = new URL(req.url ?? '/', 'http://gateway');
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  let conn: FoxgloveConnection | undefined;
  let peer: GatewayPeer;
  try {
    peer = await door.enter(url.searchParams.get('token') ?? bearer ?? undefined, () => conn?.hangUp());
  } catch (error) {
    door.close();
    return refuse(socket, '401 Unauthorized', (error as Error).message);
  }
  if (socket.destroyed) return door.close();
  a.wss.handleUpgrade(req, socket, head, (ws) => {
    const c = new FoxgloveConnection(ws, peer, { ...a.context, maxPayloadBytes: door.maxPayloadBytes });
    conn = c;
    a.connections.add(c);
    a.busy();
    ws.on('message', (data, isBinary) => {
      try {
        c.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary);
      } catch (error) {
        a.logger.error('foxglove frame handler failed', { client: peer.id, error: String(error) });
        c.status(StatusLevel.error, '[E_INTERNAL] the gateway could not handle this message');
      }
    });
    ws.on('error', (error) => a.logger.debug('foxglove socket error', { error: error.message }));
    ws.once('close', () => {
      a.connections.delete(c);
      c.close();
      door.close();
      if (a.connections.size === 0) a.idle();
    });
    a.hello(c);
    c.watchFaults();
    a.logger.info('foxglove client joined', { client: peer.id, role: peer.role, protocol: ws.protocol });
  });
}
