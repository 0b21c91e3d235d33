/**
 * The socket.io parser of the gateway's wire: each socket.io packet is one MessagePack map
 * `{ type, nsp, data?, id? }` in one binary engine.io message (the layout of `socket.io-msgpack-parser`,
 * with msgpackr, the codec of the message bodies too).
 *
 * The server's decoder is the first thing that touches a client's bytes, so it is strict: a packet
 * must be one a client may send — CONNECT (with an auth map), DISCONNECT, an EVENT whose name is
 * one of its lane's events (the gateway's handler table says which), or an empty ACK of a telemetry
 * batch — on a namespace of the gateway, with an ack id that is a small integer and nothing else in it. Anything else throws, and socket.io closes the
 * connection: nothing malformed reaches a handler.
 *
 * A message larger than the gateway's per-message limit is not dropped silently: its arguments are
 * replaced by a {@link PayloadTooLarge} marker so that its handler answers with the limit (the size
 * check made on the very message it guards).
 *
 * @module
 */
import { Packr } from 'msgpackr';
import { type ClientLane, NAMESPACES } from './protocol.js';
import { TokenBucket } from './server/token-bucket.js';

/** socket.io's packet types. */
const CONNECT = 0;
const DISCONNECT = 1;
const EVENT = 2;
const ACK = 3;
/**
 * Most acknowledgements a client may send a second (burst the same): a client acknowledges a
 * telemetry batch per 32 KiB, so this allows 32 MB/s of telemetry, and closes a flood of them.
 */
export const ACKS_PER_SECOND = 1_000;
const CONNECT_ERROR = 4;

/** A socket.io packet. */
export interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

/** Stands in for the arguments of a message larger than the gateway's per-message limit. */
export class PayloadTooLarge {
  constructor(
    /** The message's size, bytes. */
    readonly bytes: number,
  ) {}
}

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isAckId = (v: unknown) =>
  v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 31);
// `options` is socket.io's local send options, which `socket.io-msgpack-parser` clients put on the
// wire: accepted (a map) and ignored.
const PACKET_KEYS = new Set(['type', 'nsp', 'data', 'id', 'options']);

const laneOfNamespace = new Map<string, ClientLane>(
  (Object.entries(NAMESPACES) as [ClientLane, string][]).map(([lane, nsp]) => [nsp, lane]),
);
/** The events a client may send on each lane. */
export type LaneEvents = { readonly [L in ClientLane]: readonly string[] };

class ProtocolViolation extends Error {
  override name = 'ProtocolViolation';
}

const bytesOf = (chunk: unknown): Uint8Array => {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new ProtocolViolation('text frames are not part of this protocol');
};

function unpack(bytes: Uint8Array): Record<string, unknown> {
  let packet: unknown;
  try {
    packet = packr.unpack(bytes);
  } catch (error) {
    throw new ProtocolViolation(`not MessagePack: ${(error as Error).message}`);
  }
  if (!isMap(packet)) throw new ProtocolViolation('a packet is a map');
  return packet;
}

/** Checks a packet from a client; returns it as the server should see it, or throws. */
function checkFromClient(
  packet: Record<string, unknown>,
  bytes: number,
  maxPayload: number,
  eventsOf: ReadonlyMap<ClientLane, ReadonlySet<string>>,
): Packet {
  for (const key of Object.keys(packet))
    if (!PACKET_KEYS.has(key)) throw new ProtocolViolation(`unexpected packet field ${key.slice(0, 32)}`);
  const { type, nsp, data, id, options } = packet;
  if (typeof nsp !== 'string') throw new ProtocolViolation('nsp must be a string');
  if (!isAckId(id)) throw new ProtocolViolation('id must be an integer from 0 to 2^31');
  if (options !== undefined && !isMap(options)) throw new ProtocolViolation('options must be a map');
  const lane = laneOfNamespace.get(nsp);
  if (type === CONNECT) {
    // The default namespace is answered (with a refusal that says where to go); others do not exist.
    if (!lane && nsp !== '/') throw new ProtocolViolation('no such namespace');
    if (data !== undefined && !isMap(data)) throw new ProtocolViolation('CONNECT data must be a map');
    if (id !== undefined) throw new ProtocolViolation('CONNECT carries no id');
    return { type, nsp, ...(data === undefined ? {} : { data }) };
  }
  if (!lane) throw new ProtocolViolation('no such namespace');
  if (type === DISCONNECT) {
    if (data !== undefined || id !== undefined) throw new ProtocolViolation('DISCONNECT carries nothing');
    return { type, nsp };
  }
  if (type === ACK) {
    // The acknowledgement of a telemetry batch (a client that asked for flow control): nothing in it.
    if (lane !== 'telemetry' || !Array.isArray(data) || data.length !== 0 || id === undefined)
      throw new ProtocolViolation('an ACK from a client is an empty acknowledgement of a telemetry batch');
    return { type, nsp, data, id: id as number };
  }
  if (type !== EVENT) throw new ProtocolViolation('a client sends CONNECT, DISCONNECT, EVENT or ACK');
  if (!Array.isArray(data) || data.length === 0 || data.length > 3)
    throw new ProtocolViolation('EVENT data must be [event, ...up to 2 arguments]');
  const event = data[0];
  if (typeof event !== 'string' || !eventsOf.get(lane)!.has(event))
    throw new ProtocolViolation(`not an event of the ${lane} lane`);
  const args = bytes > maxPayload ? [event, new PayloadTooLarge(bytes)] : data;
  return { type, nsp, data: args, ...(id === undefined ? {} : { id: id as number }) };
}

/** Checks a packet from the server (the client trusts the server less than blindly). */
function checkFromServer(packet: Record<string, unknown>): Packet {
  const { type, nsp, data, id } = packet;
  if (typeof nsp !== 'string') throw new ProtocolViolation('nsp must be a string');
  if (!isAckId(id)) throw new ProtocolViolation('invalid packet id');
  const valid =
    type === CONNECT
      ? data === undefined || isMap(data)
      : type === DISCONNECT
        ? data === undefined
        : type === CONNECT_ERROR
          ? typeof data === 'string' || isMap(data)
          : (type === EVENT || type === ACK) && Array.isArray(data);
  if (!valid) throw new ProtocolViolation('invalid packet');
  return packet as unknown as Packet;
}

type Listener = (packet: Packet) => void;

/** The parser socket.io takes as its `parser` option (an `Encoder` and a `Decoder` class). */
export interface WireParser {
  Encoder: new () => { encode(packet: Packet): Uint8Array[] };
  Decoder: new () => {
    add(chunk: unknown): void;
    on(event: 'decoded', listener: Listener): unknown;
    off(event: 'decoded', listener: Listener): unknown;
    removeListener(event: 'decoded', listener: Listener): unknown;
    destroy(): void;
  };
}

function makeParser(
  check: (packet: Record<string, unknown>, bytes: number) => Packet,
  server = false,
): WireParser {
  class Encoder {
    encode(packet: Packet): Uint8Array[] {
      // socket.io's packets carry local options (compress…) that are not for the wire.
      const { type, nsp, data, id } = packet;
      const wire: Packet = { type, nsp };
      if (data !== undefined) wire.data = data;
      if (id !== undefined) wire.id = id;
      return [packr.pack(wire)];
    }
  }
  class Decoder {
    readonly #listeners = new Set<Listener>();
    // A connection's own, made on its first acknowledgement (most connections never send one):
    // acknowledgements come one per 32 KiB of telemetry it was sent.
    #acks: TokenBucket | undefined;
    add(chunk: unknown): void {
      const bytes = bytesOf(chunk);
      const packet = check(unpack(bytes), bytes.byteLength);
      if (server && packet.type === ACK) {
        const now = performance.now();
        this.#acks ??= new TokenBucket(ACKS_PER_SECOND, ACKS_PER_SECOND, now);
        if (!this.#acks.take(now))
          throw new ProtocolViolation(`more than ${ACKS_PER_SECOND} acknowledgements a second`);
      }
      for (const l of this.#listeners) l(packet);
    }
    on(_event: 'decoded', listener: Listener) {
      this.#listeners.add(listener);
      return this;
    }
    off(_event: 'decoded', listener: Listener) {
      this.#listeners.delete(listener);
      return this;
    }
    removeListener(event: 'decoded', listener: Listener) {
      return this.off(event, listener);
    }
    destroy(): void {
      this.#listeners.clear();
    }
  }
  return { Encoder, Decoder };
}

/**
 * The server's parser: only what a client may send passes — `events` on each lane; larger messages
 * than `maxPayload` are marked.
 */
export function serverParser(maxPayload: number, events: LaneEvents): WireParser {
  const eventsOf = new Map<ClientLane, ReadonlySet<string>>(
    (Object.keys(events) as ClientLane[]).map((lane) => [lane, new Set(events[lane])]),
  );
  return makeParser((packet, bytes) => checkFromClient(packet, bytes, maxPayload, eventsOf), true);
}

/** The client's parser. */
export const clientParser: WireParser = makeParser((packet) => checkFromServer(packet));
