import { Packr } from 'msgpackr';

/**
 * The codec of message bodies inside the gateway's `b` frames: standard MessagePack (maps, no
 * msgpackr records, so any MessagePack decoder reads it). The server encodes each message once for
 * every client that gets it; clients decode each body. socket.io's parser frames the batch around
 * these bytes.
 */
const packr = new Packr({ useRecords: false, moreTypes: false });

/** A message's MessagePack bytes. */
export const packMessage = (message: unknown): Uint8Array => packr.pack(message);

/** The message in MessagePack bytes; throws on bytes that are not MessagePack. */
export const unpackMessage = (bytes: Uint8Array): unknown => packr.unpack(bytes);
