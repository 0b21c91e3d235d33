/**
 * The recorder's writer thread: everything between an encoded message and the disk — MCAP records,
 * chunking and indexes, zstd, file writes, rotation, episodes' records — runs here, so none of it
 * holds the main thread's event loop (where the control lane runs).
 *
 * It takes the main thread's batches in order (one at a time), acknowledges each once written, and
 * closes the open chunk every `flushMs` on a timer of its own, so a file is readable up to a
 * chunk at most that old even while the main thread is busy. Never imports `@telekit/core`: it runs
 * without the app's module conditions.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type ChannelDef, McapFile } from './mcap-file.js';
import {
  type FromWorker,
  INDEX_STRIDE,
  type ToWorker,
  type WorkerInit,
  type WorkerOp,
} from './worker-protocol.js';

const port = parentPort;
lowerPriority();
if (!port) throw new Error('recorder-worker.ts runs as a worker thread');
const init = workerData as WorkerInit;
const toNs = (ms: number) => BigInt(Math.round(ms * 1e6));

const channels = new Map<number, { def: ChannelDef; video?: { frameId: string } }>();
const files: string[] = [];
let file: McapFile | undefined;
let fileStartedAt = 0;
let episode: { index: number; task: string; startedAt: number } | undefined;

const status = () => ({
  file: files[files.length - 1],
  files: [...files],
  bytes: file?.bytes ?? 0,
  chunks: file?.chunks ?? 0,
  counts: Object.fromEntries(file?.counts ?? []),
});
const send = (m: FromWorker) => port.postMessage(m);

async function openNext(atMs: number) {
  await file?.close();
  const stamp = new Date(atMs)
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
  const path = join(init.dir, `${init.prefix}-${stamp}-${files.length}.mcap`);
  file = await McapFile.create(path, {
    chunkSize: init.chunkSize,
    zstdLevel: init.zstdLevel,
    profile: init.profile,
  });
  files.push(path);
  fileStartedAt = atMs;
  if (episode) await file.write(init.episodeChannel, toNs(atMs), { event: 'continue', ...episode });
}

/** Rotates when the file is past its size or age. */
async function rotateIfDue(atMs: number) {
  if (file && (file.bytes >= init.maxFileBytes || atMs - fileStartedAt >= init.maxFileMs))
    await openNext(atMs);
}

async function runOp(op: WorkerOp) {
  if (!file) return;
  if (op.kind === 'rotate') return openNext(op.atMs);
  await rotateIfDue(op.atMs);
  if (op.kind === 'flush') return file.flushChunk(toNs(op.atMs));
  const json = {
    event: op.event,
    index: op.index,
    task: op.task,
    startedAt: op.startedAt,
    ...(op.event === 'stop' ? { stoppedAt: op.atMs } : {}),
  };
  episode = op.event === 'start' ? { index: op.index, task: op.task, startedAt: op.startedAt } : undefined;
  await file.write(init.episodeChannel, toNs(op.atMs), json);
  if (op.event === 'stop')
    await file.metadata(`episode-${op.index}`, {
      index: String(op.index),
      task: op.task,
      startedAt: String(op.startedAt),
      stoppedAt: String(op.atMs),
    });
}

async function writeBatch(m: Extract<ToWorker, { type: 'batch' }>) {
  const bytes = new Uint8Array(m.bytes);
  const count = m.index.length / INDEX_STRIDE;
  let op = 0;
  for (let i = 0; i <= count; i++) {
    while (op < m.ops.length && m.ops[op]!.at === i) await guarded(() => runOp(m.ops[op++]!.op));
    if (i === count) break;
    const at = i * INDEX_STRIDE;
    const channel = channels.get(m.index[at]!);
    const atMs = m.index[at + 1]!;
    const data = bytes.subarray(m.index[at + 2]!, m.index[at + 2]! + m.index[at + 3]!);
    if (!channel || !file) continue;
    await guarded(async () => {
      await rotateIfDue(atMs);
      if (!channel.video) return file!.writeEncoded(channel.def, toNs(atMs), data);
      const receivedAt = m.index[at + 4]!;
      const sec = Math.floor(receivedAt / 1000);
      return file!.write(channel.def, toNs(atMs), {
        timestamp: { sec, nsec: Math.min(999_999_999, Math.round((receivedAt - sec * 1000) * 1e6)) },
        frame_id: channel.video.frameId,
        data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
        format: 'h264',
      });
    });
  }
  send({ type: 'done', seq: m.seq, entries: count + m.ops.length, ...status() });
}

/** A failed write is reported and skipped; the next one goes on. */
async function guarded(write: () => Promise<void>) {
  try {
    await write();
  } catch (error) {
    send({ type: 'error', message: String(error), file: files[files.length - 1] ?? '-' });
  }
}

/**
 * Runs this thread at a lower priority (nice +10) where the OS lets one thread have its own (Linux:
 * a thread's id is a pid to setpriority): on a busy machine the main thread, where the control lane
 * runs, gets the core first, and the writer catches up in its slack (the queue absorbs the wait, and
 * telemetry is dropped and counted past it). Elsewhere the thread keeps the process's priority.
 */
function lowerPriority() {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + 10));
  } catch {
    // not Linux, or not allowed: the same priority as the process
  }
}

// One thing at a time, in the order it came: the writer's calls must not overlap.
let chain: Promise<void> = openNext(init.startAtMs).then(
  () => send({ type: 'ready', ...status() }),
  (error: unknown) => send({ type: 'error', message: String(error), file: '-' }),
);
const then = (work: () => Promise<void>) => {
  chain = chain.then(work, work);
};
const timer =
  init.flushMs > 0
    ? setInterval(() => then(() => guarded(() => runOp({ kind: 'flush', atMs: Date.now() }))), init.flushMs)
    : undefined;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'channel':
      channels.set(m.id, { def: m.def, ...(m.video ? { video: m.video } : {}) });
      return;
    case 'batch':
      return then(() => writeBatch(m));
    case 'close':
      clearInterval(timer);
      return then(async () => {
        await guarded(async () => {
          await file?.close();
        });
        send({ type: 'closed' });
        port.close();
      });
  }
});
