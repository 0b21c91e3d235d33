import { Packr } from 'msgpackr';

/**
 * How messages become bytes on a link and back. A link carries whatever the codec makes; both ends
 * of a link must use the same one.
 */
export interface Codec {
  /** For logs and content types: `json`, `msgpack`, or your own. */
  readonly name: string;
  encode(message: unknown): Uint8Array;
  /** Throws on data that is not in this codec (the transport refuses the message, `E_PROTOCOL`). */
  decode(data: Uint8Array | string): unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON as UTF-8: readable by every tool on the other side of a broker (`mosquitto_sub`, Node-RED,
 * a Python script). Telekit's messages hold no NaN, Infinity or binary fields, so nothing is lost.
 *
 * @example
 * ```ts
 * import { jsonCodec } from '@telekit/core';
 * const bytes = jsonCodec.encode({ a: 1 });
 * jsonCodec.decode(bytes); // { a: 1 }
 * ```
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode: (message) => encoder.encode(JSON.stringify(message)),
  decode: (data) => JSON.parse(typeof data === 'string' ? data : decoder.decode(data)),
};

// Standard MessagePack (maps, no msgpackr records or extensions): any MessagePack decoder reads it.
const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * Standard MessagePack (by msgpackr, as the gateway uses): smaller and faster than JSON, still
 * readable by any MessagePack library.
 *
 * @example
 * ```ts
 * import { msgpackCodec } from '@telekit/core';
 * msgpackCodec.decode(msgpackCodec.encode({ a: 1 })); // { a: 1 }
 * ```
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode: (message) => packr.pack(message),
  decode: (data) => {
    if (typeof data === 'string') throw new TypeError('MessagePack arrives as bytes, not text');
    return packr.unpack(data);
  },
};
