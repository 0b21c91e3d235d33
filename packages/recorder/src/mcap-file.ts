import { type FileHandle, open } from 'node:fs/promises';
import * as zstd from '@foxglove/wasm-zstd';
import { McapWriter } from '@mcap/core';

/** A channel as the file declares it: topic, JSON Schema and its name. */
export interface ChannelDef {
  readonly topic: string;
  readonly schemaName: string;
  readonly schema: Record<string, unknown>;
}

/** The channel a chunk flush writes its padding to (see {@link McapFile.flushChunk}). */
export const FLUSH_CHANNEL: ChannelDef = {
  topic: '/recorder/flush',
  schemaName: 'telekit.recorder.Flush',
  schema: {
    type: 'object',
    description: 'Padding that closes a chunk early, so a killed process loses at most flushMs of data.',
    properties: { pad: { type: 'string' } },
  },
};

const encoder = new TextEncoder();
/** An MCAP message record's size besides its data: opcode, length, channel, sequence, two times. */
const MESSAGE_OVERHEAD = 1 + 8 + 2 + 4 + 8 + 8;

/**
 * One MCAP file being written: `@mcap/core`'s writer (chunked, indexed, statistics and summary
 * offsets) over an append-only file handle, chunks compressed with zstd (`@foxglove/wasm-zstd`).
 *
 * Every chunk reaches the file (the kernel's page cache) when it closes, so a process killed with
 * SIGKILL leaves a file a streaming reader reads up to its last closed chunk; only `close()` writes
 * the summary an indexed reader needs. Calls must not overlap (the writer's rule): the caller
 * serialises them.
 */
export class McapFile {
  readonly #handle: FileHandle;
  readonly #writer: McapWriter;
  readonly #channels = new Map<string, number>();
  readonly #chunkSize: number;
  #position = 0n;
  /** Bytes of message records put into the open chunk (an estimate: records of schemas and channels aside). */
  #inChunk = 0;
  #sequence = 0;
  #closed = false;
  /** Messages written, by topic. */
  readonly counts = new Map<string, number>();

  private constructor(handle: FileHandle, chunkSize: number, level: number) {
    this.#handle = handle;
    this.#chunkSize = chunkSize;
    this.#writer = new McapWriter({
      writable: {
        write: async (buffer: Uint8Array) => {
          // The writer reuses its buffer once this resolves: write it out before then.
          await this.#handle.write(buffer);
          this.#position += BigInt(buffer.byteLength);
        },
        position: () => this.#position,
      },
      chunkSize,
      compressChunk: (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, level) }),
    });
  }

  /** Creates (truncates) `path` and writes the MCAP header. */
  static async create(
    path: string,
    options: { chunkSize: number; zstdLevel: number; profile?: string },
  ): Promise<McapFile> {
    await zstd.isLoaded;
    const handle = await open(path, 'w');
    const file = new McapFile(handle, options.chunkSize, options.zstdLevel);
    await file.#writer.start({ profile: options.profile ?? '', library: 'telekit-recorder' });
    return file;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return Number(this.#position);
  }

  /** Chunks closed so far. */
  get chunks(): number {
    return Number(this.#writer.statistics?.chunkCount ?? 0);
  }

  /** Writes one JSON message on `channel` (declared on first use) at `logTimeNs`. */
  async write(channel: ChannelDef, logTimeNs: bigint, json: unknown): Promise<void> {
    const data = encoder.encode(JSON.stringify(json));
    await this.#add(channel, logTimeNs, data);
  }

  /** Writes one message already encoded (UTF-8 JSON) on `channel` at `logTimeNs`; `data` is copied. */
  async writeEncoded(channel: ChannelDef, logTimeNs: bigint, data: Uint8Array): Promise<void> {
    await this.#add(channel, logTimeNs, data);
  }

  /** Writes a metadata record (e.g. an episode's boundary). */
  async metadata(name: string, values: Record<string, string>): Promise<void> {
    await this.#writer.addMetadata({ name, metadata: new Map(Object.entries(values)) });
  }

  /**
   * Closes the open chunk now, if it holds anything: `@mcap/core` closes a chunk only when it is
   * full, so this adds one padding message (spaces, which zstd compresses to a few bytes) that
   * fills it past the chunk size.
   */
  async flushChunk(logTimeNs: bigint): Promise<void> {
    if (this.#inChunk === 0) return;
    const before = this.chunks;
    let pad = Math.max(0, this.#chunkSize - this.#inChunk) + 1;
    // The estimate leaves out the chunk's schema and channel records, so it can only be over
    // what is needed; a second, small padding covers a rounding surprise.
    for (let i = 0; i < 2 && this.chunks === before; i++) {
      await this.#add(FLUSH_CHANNEL, logTimeNs, encoder.encode(JSON.stringify({ pad: ' '.repeat(pad) })));
      pad = 16;
    }
  }

  async #add(channel: ChannelDef, logTimeNs: bigint, data: Uint8Array): Promise<void> {
    const id = this.#channels.get(channel.topic) ?? (await this.#declare(channel));
    const before = this.chunks;
    await this.#writer.addMessage({
      channelId: id,
      sequence: this.#sequence++ >>> 0,
      logTime: logTimeNs,
      publishTime: logTimeNs,
      data,
    });
    if (this.chunks !== before) this.#inChunk = 0;
    else this.#inChunk += MESSAGE_OVERHEAD + data.byteLength;
    this.counts.set(channel.topic, (this.counts.get(channel.topic) ?? 0) + 1);
  }

  async #declare(channel: ChannelDef): Promise<number> {
    const schemaId = await this.#writer.registerSchema({
      name: channel.schemaName,
      encoding: 'jsonschema',
      data: encoder.encode(JSON.stringify(channel.schema)),
    });
    const id = await this.#writer.registerChannel({
      topic: channel.topic,
      schemaId,
      messageEncoding: 'json',
      metadata: new Map(),
    });
    this.#channels.set(channel.topic, id);
    return id;
  }

  /** Closes the last chunk, writes the summary and the footer, and closes the file. Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#writer.end();
    } finally {
      await this.#handle.close();
    }
  }
}
