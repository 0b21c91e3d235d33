import { readFile } from 'node:fs/promises';
import * as zstd from '@foxglove/wasm-zstd';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';

/** Decompressors by the chunk's compression name, as `@mcap/core`'s readers take them. */
export type DecompressHandlers = Record<string, (buffer: Uint8Array, decompressedSize: bigint) => Uint8Array>;

/** A recorded message, decoded. */
export interface RecordedMessage {
  readonly topic: string;
  /** Log time, ns since the epoch. */
  readonly logTime: bigint;
  readonly json: unknown;
}

/** What {@link readRecording} found in a file. */
export interface Recording {
  /** Read through its summary (a file closed cleanly), or record by record (a file cut short). */
  readonly read: 'indexed' | 'stream';
  /** Channels by topic: schema name and JSON Schema. */
  readonly channels: ReadonlyMap<string, { schemaName: string; schema: Record<string, unknown> }>;
  /** Every message, in log-time order for an indexed read and file order for a stream read. */
  readonly messages: readonly RecordedMessage[];
  /** Metadata records (episodes) by name. */
  readonly metadata: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** A stream read: bytes past the last whole record (a chunk the process did not finish). */
  readonly trailingBytes: number;
}

const decoder = new TextDecoder();

/** Decompression for the chunks a recorder writes (zstd), and lz4-free files (none). */
export async function decompressHandlers(): Promise<DecompressHandlers> {
  await zstd.isLoaded;
  return { zstd: (buffer, size) => zstd.decompress(buffer, Number(size)) };
}

/**
 * Reads a recording whole into memory (for tests, tools and small files): with `@mcap/core`'s
 * indexed reader when the file has its summary, else with its stream reader up to the last whole
 * record — what a killed recorder left holds everything up to its last closed chunk.
 *
 * @example
 * ```ts
 * import { readRecording } from '@telekit/recorder';
 * const rec = await readRecording('recordings/telekit-2026-12-01T07-00-00Z-0.mcap');
 * console.log(rec.messages.filter((m) => m.topic === '/telemetry/pose').length);
 * ```
 */
export async function readRecording(path: string): Promise<Recording> {
  const bytes = new Uint8Array(await readFile(path));
  const handlers = await decompressHandlers();
  try {
    return await readIndexed(bytes, handlers);
  } catch {
    return readStream(bytes, handlers);
  }
}

async function readIndexed(bytes: Uint8Array, handlers: DecompressHandlers): Promise<Recording> {
  const reader = await McapIndexedReader.Initialize({
    readable: {
      size: async () => BigInt(bytes.byteLength),
      read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)),
    },
    decompressHandlers: handlers,
  });
  const channels = new Map<string, { schemaName: string; schema: Record<string, unknown> }>();
  const topics = new Map<number, string>();
  for (const ch of reader.channelsById.values()) {
    const schema = reader.schemasById.get(ch.schemaId);
    topics.set(ch.id, ch.topic);
    channels.set(ch.topic, {
      schemaName: schema?.name ?? '',
      schema: schema ? (JSON.parse(decoder.decode(schema.data)) as Record<string, unknown>) : {},
    });
  }
  const messages: RecordedMessage[] = [];
  for await (const m of reader.readMessages())
    messages.push({
      topic: topics.get(m.channelId) ?? '',
      logTime: m.logTime,
      json: JSON.parse(decoder.decode(m.data)),
    });
  const metadata = new Map<string, Record<string, string>>();
  for await (const m of reader.readMetadata()) metadata.set(m.name, Object.fromEntries(m.metadata));
  return { read: 'indexed', channels, messages, metadata, trailingBytes: 0 };
}

function readStream(bytes: Uint8Array, handlers: DecompressHandlers): Recording {
  const reader = new McapStreamReader({ decompressHandlers: handlers });
  reader.append(bytes);
  const channels = new Map<string, { schemaName: string; schema: Record<string, unknown> }>();
  const schemas = new Map<number, { name: string; schema: Record<string, unknown> }>();
  const topics = new Map<number, string>();
  const messages: RecordedMessage[] = [];
  const metadata = new Map<string, Record<string, string>>();
  for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
    switch (r.type) {
      case 'Schema':
        schemas.set(r.id, {
          name: r.name,
          schema: JSON.parse(decoder.decode(r.data)) as Record<string, unknown>,
        });
        break;
      case 'Channel': {
        const s = schemas.get(r.schemaId);
        topics.set(r.id, r.topic);
        channels.set(r.topic, { schemaName: s?.name ?? '', schema: s?.schema ?? {} });
        break;
      }
      case 'Message':
        messages.push({
          topic: topics.get(r.channelId) ?? '',
          logTime: r.logTime,
          json: JSON.parse(decoder.decode(r.data)),
        });
        break;
      case 'Metadata':
        metadata.set(r.name, Object.fromEntries(r.metadata));
        break;
      default:
        break;
    }
  }
  return { read: 'stream', channels, messages, metadata, trailingBytes: reader.bytesRemaining() };
}
