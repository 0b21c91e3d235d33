/**
 * The Foxglove WebSocket protocol's wire, as its specification (foxglove/ws-protocol, `docs/spec.md`)
 * writes it: JSON text frames for control, binary frames with a one-byte opcode for data.
 */

/** The subprotocols accepted, in order of preference: the SDK's name first, then the original. */
export const SUBPROTOCOLS = ['foxglove.sdk.v1', 'foxglove.websocket.v1'] as const;

/** Status levels of a `status` message. */
export const StatusLevel = { info: 0, warning: 1, error: 2 } as const;

/** Binary opcodes the server sends. */
export const ServerOp = { messageData: 1, time: 2 } as const;
/** Binary opcodes a client sends. */
export const ClientOp = { messageData: 1, serviceCallRequest: 2 } as const;

/** A channel as `advertise` lists it. */
export interface Channel {
  id: number;
  topic: string;
  encoding: 'json';
  schemaName: string;
  schema: string;
  schemaEncoding: 'jsonschema';
}

/** A channel a client advertises to publish on. */
export interface ClientChannel {
  id: number;
  topic: string;
  encoding: string;
  schemaName: string;
  schema?: string;
  schemaEncoding?: string;
}

/** A binary `messageData` frame: opcode, subscription id, timestamp (ns), payload. */
export function messageData(subscription: number, timestampNs: bigint, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(13 + payload.length);
  out[0] = ServerOp.messageData;
  out.writeUInt32LE(subscription, 1);
  out.writeBigUInt64LE(timestampNs, 5);
  out.set(payload, 13);
  return out;
}

/** A binary `time` frame: the server's time, ns. */
export function timeFrame(timestampNs: bigint): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = ServerOp.time;
  out.writeBigUInt64LE(timestampNs, 1);
  return out;
}

/** Milliseconds (fractional allowed) as nanoseconds. */
export const msToNs = (ms: number): bigint => BigInt(Math.max(0, Math.round(ms * 1e6)));

/** A Foxglove `time` (`{ sec, nsec }`) from milliseconds since the epoch (or seconds of simulated time × 1000). */
export function fromMs(ms: number): { sec: number; nsec: number } {
  const t = Math.max(0, ms);
  const sec = Math.floor(t / 1000);
  return { sec, nsec: Math.min(999_999_999, Math.round((t - sec * 1000) * 1e6)) };
}
