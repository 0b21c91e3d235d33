import type { ChannelDef } from './mcap-file.js';

/**
 * The messages between the recorder (main thread) and its writer thread (`recorder-worker.ts`).
 * Internal: neither side is exported.
 *
 * Messages travel as JSON encoded on the main thread into one buffer per batch, which is
 * transferred (not copied) to the worker; an index beside it says where each message is.
 */

/** Numbers per message in {@link Batch.index}: channel id, log time (ms), offset, length, stamp (ms, video only). */
export const INDEX_STRIDE = 5;

/** Where the writer starts, and how it writes. */
export interface WorkerInit {
  dir: string;
  prefix: string;
  maxFileBytes: number;
  maxFileMs: number;
  chunkSize: number;
  /** Close the open chunk at least this often, ms (the worker's own timer); 0: only when full. */
  flushMs: number;
  zstdLevel: number;
  profile: string;
  /** The channel episodes are written to. */
  episodeChannel: ChannelDef;
  /** When the first file starts, ms since the epoch. */
  startAtMs: number;
}

/** What the writer does besides writing messages, in order with them. */
export type WorkerOp =
  | { kind: 'episode'; event: 'start' | 'stop'; atMs: number; index: number; task: string; startedAt: number }
  | { kind: 'flush'; atMs: number }
  | { kind: 'rotate'; atMs: number };

/** From the main thread. */
export type ToWorker =
  | { type: 'channel'; id: number; def: ChannelDef; video?: { frameId: string } }
  | {
      type: 'batch';
      /** The batch's number: the worker acknowledges it by this. */
      seq: number;
      /** UTF-8 JSON (video: raw access units), messages one after another. */
      bytes: ArrayBuffer;
      /** {@link INDEX_STRIDE} numbers per message. */
      index: Float64Array;
      /** Operations to run before the message at `at` (an index into the batch's messages). */
      ops: { at: number; op: WorkerOp }[];
    }
  | { type: 'close' };

/** The file being written, as the worker last reported it. */
export interface WorkerFileStatus {
  file: string | undefined;
  files: string[];
  bytes: number;
  chunks: number;
  /** Messages written, by topic. */
  counts: Record<string, number>;
}

/** From the worker. */
export type FromWorker =
  | ({ type: 'ready' } & WorkerFileStatus)
  | ({ type: 'done'; seq: number; entries: number } & WorkerFileStatus)
  | { type: 'error'; message: string; file: string }
  | { type: 'closed' };
