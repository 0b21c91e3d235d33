/**
 * A raw attacker's client: engine.io v4 spoken by hand over `ws`, socket.io packets crafted with
 * msgpackr (a msgpack map `{ type, nsp, data, id? }` per binary frame), and the server's frames
 * decoded with the gateway's own parser. Nothing here goes through Telekit's client library.
 *
 * Engine.io over a WebSocket: text frames are `<type><payload>` (`0` open, `1` close, `2` ping,
 * `3` pong, `4` message, `5` upgrade, `6` noop); a binary frame is a message whose bytes are one
 * socket.io packet.
 *
 * @module
 */
import { Packr } from 'msgpackr';
import msgpackParser from 'socket.io-msgpack-parser';
import WebSocket from 'ws';

/** socket.io packet types. */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** A decoded socket.io packet from the server. */
export interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

const packr = new Packr({ useRecords: false, moreTypes: false });
/** Packs any value as standard msgpack (a fresh buffer, safe to hold). */
export const pack = (value: unknown): Buffer => Buffer.from(packr.pack(value));

/** Options of {@link RawClient.open}. */
export interface RawOptions {
  /** The source address to connect from (any of 127.0.0.0/8 on loopback). */
  localAddress?: string;
  /** An `Origin` header, as a browser sends. */
  origin?: string;
  headers?: Record<string, string>;
  /** Replaces the default query `EIO=4&transport=websocket`. */
  query?: string;
  /** How long to wait for the engine.io open packet, ms. Default 10 000. */
  timeoutMs?: number;
  /** Answer the server's pings (default true). */
  pong?: boolean;
}

/** Why a WebSocket handshake did not open. */
export class HandshakeRefused extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The engine.io open packet's fields. */
export interface OpenPacket {
  sid: string;
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

type Waiter = { match: (p: Packet) => boolean; resolve: (p: Packet) => void };

/** One engine.io connection. */
export class RawClient {
  /** Every socket.io packet the server sent, in order. */
  readonly packets: Packet[] = [];
  /** Engine.io text frames other than ping and open (e.g. `1` close, `6` noop). */
  readonly texts: string[] = [];
  /** Server frames that did not decode as socket.io packets (should stay empty). */
  readonly undecodable: unknown[] = [];
  /** Resolves when the connection closes, with the WebSocket close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed = false;
  private waiters: Waiter[] = [];
  private nextAck = 1;

  private constructor(
    readonly ws: WebSocket,
    readonly open: OpenPacket,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Opens a WebSocket to the gateway and waits for engine.io's open packet. */
  static open(baseUrl: string, options: RawOptions = {}): Promise<RawClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?${options.query ?? 'EIO=4&transport=websocket'}`;
    const ws = new WebSocket(url, {
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.origin ? { origin: options.origin } : {}),
      headers: options.headers ?? {},
      perMessageDeflate: false,
      handshakeTimeout: options.timeoutMs ?? 10_000,
    });
    return new Promise((resolve, reject) => {
      let client: RawClient | undefined;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new HandshakeRefused(undefined, 'no engine.io open packet'));
      }, options.timeoutMs ?? 10_000);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        res.resume();
        ws.terminate();
        reject(new HandshakeRefused(res.statusCode, `handshake refused with HTTP ${res.statusCode}`));
      });
      ws.on('error', (error) => {
        clearTimeout(timer);
        if (!client) reject(new HandshakeRefused(undefined, error.message));
      });
      ws.on('close', () => {
        clearTimeout(timer);
        if (!client) reject(new HandshakeRefused(undefined, 'closed before the open packet'));
      });
      const decoder = new msgpackParser.Decoder();
      decoder.on('decoded', (p: Packet) => client?.receive(p));
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          try {
            decoder.add(data as Buffer);
          } catch (error) {
            client?.undecodable.push(error);
          }
          return;
        }
        const text = data.toString();
        if (text.startsWith('0') && !client) {
          clearTimeout(timer);
          client = new RawClient(ws, JSON.parse(text.slice(1)) as OpenPacket);
          resolve(client);
          return;
        }
        if (text === '2') {
          if (options.pong !== false && ws.readyState === WebSocket.OPEN) ws.send('3');
          return;
        }
        client?.texts.push(text);
      });
    });
  }

  private receive(p: Packet) {
    this.packets.push(p);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(p)) return true;
      w.resolve(p);
      return false;
    });
  }

  /** True while the WebSocket is open. */
  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends bytes as one binary frame (a socket.io packet, or garbage). */
  sendBinary(bytes: Uint8Array) {
    if (this.isOpen) this.ws.send(bytes, { binary: true });
  }

  /** Sends one text frame as it is (engine.io packets, or garbage). */
  sendText(text: string) {
    if (this.isOpen) this.ws.send(text, { binary: false });
  }

  /** Sends a socket.io packet: any map at all, packed as msgpack. */
  send(packet: Record<string, unknown>) {
    this.sendBinary(pack(packet));
  }

  /** Writes everything `fn` sends in one go (one TCP write). */
  batch(fn: () => void) {
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    try {
      fn();
    } finally {
      socket?.uncork();
    }
  }

  /** A fresh acknowledgement id. */
  ackId() {
    return this.nextAck++;
  }

  /** Sends a CONNECT for `nsp`; resolves with the CONNECT or CONNECT_ERROR answer, or undefined if the connection closed first. */
  async connect(nsp: string, auth?: unknown, timeoutMs = 15_000): Promise<Packet | undefined> {
    const answer = this.waitFor(
      (p) => p.nsp === nsp && (p.type === PacketType.CONNECT || p.type === PacketType.CONNECT_ERROR),
      timeoutMs,
    );
    this.send({ type: PacketType.CONNECT, nsp, ...(auth === undefined ? {} : { data: auth }) });
    return answer;
  }

  /** Sends an EVENT; with `ack`, asks for an acknowledgement and resolves with its arguments. */
  emit(nsp: string, event: unknown, ...args: unknown[]) {
    this.send({ type: PacketType.EVENT, nsp, data: [event, ...args] });
  }

  /** Sends an EVENT with an ack id; resolves with the ack's first argument, or undefined if the connection closed first. */
  ask(nsp: string, event: string, args: unknown[], timeoutMs = 15_000): Promise<unknown> {
    const id = this.ackId();
    const answer = this.waitFor((p) => p.type === PacketType.ACK && p.nsp === nsp && p.id === id, timeoutMs);
    this.send({ type: PacketType.EVENT, nsp, id, data: [event, ...args] });
    return answer.then((p) => (p ? (p.data as unknown[])[0] : undefined));
  }

  /**
   * The first packet (already received or to come) matching `match`; undefined when the connection
   * closes first. Rejects after `timeoutMs`.
   */
  waitFor(match: (p: Packet) => boolean, timeoutMs = 15_000): Promise<Packet | undefined> {
    const seen = this.packets.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.isClosed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching packet within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      this.waiters.push(waiter);
      void this.closed.then(() => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      });
    });
  }

  /** Events (name and arguments) the server sent on `nsp`. */
  events(nsp?: string): { name: unknown; args: unknown[] }[] {
    return this.packets
      .filter((p) => p.type === PacketType.EVENT && (nsp === undefined || p.nsp === nsp))
      .map((p) => {
        const [name, ...args] = p.data as unknown[];
        return { name, args };
      });
  }

  /** Waits until the connection closes; rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.closed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the gateway kept the connection open for ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection at once. */
  kill() {
    this.ws.terminate();
  }
}

/**
 * Source addresses on loopback: each attack connects from its own, so that per-address limits meet
 * the attacker and not the legitimate operator (who connects from 127.0.0.1).
 */
export function addresses(block: number) {
  let n = 0;
  return () => {
    const i = n++;
    return `127.${block}.${Math.floor(i / 250) % 256}.${(i % 250) + 2}`;
  };
}
