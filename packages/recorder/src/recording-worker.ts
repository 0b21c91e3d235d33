import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChannelDef } from './mcap-file.js';
import {
  type FromWorker,
  INDEX_STRIDE,
  type ToWorker,
  type WorkerFileStatus,
  type WorkerInit,
  type WorkerOp,
} from './worker-protocol.js';
import type { EntryClass, WriteQueueStats } from './write-queue.js';

/** Encoding starts this long after the first entry of a batch; the batch is posted when done. */
const POST_MS = 20;
/** A batch is posted at once past this size. */
const POST_BYTES = 256 * 1024;
/** Encoding yields to the event loop after this much work, ms. */
const SLICE_MS = 0.2;

const encoder = new TextEncoder();

type Pending =
  | { id: number; atMs: number; json: unknown; data?: undefined; receivedAt?: undefined; op?: undefined }
  | { id: number; atMs: number; data: Uint8Array; receivedAt: number; json?: undefined; op?: undefined }
  | {
      op: WorkerOp;
      id?: undefined;
      atMs?: undefined;
      json?: undefined;
      data?: undefined;
      receivedAt?: undefined;
    };

/**
 * The main thread's side of the recorder's writer thread (`recorder-worker.ts`). A producer's push
 * is an array append (the feeds call it inside the transport's delivery, where a command's round
 * trip runs); a few milliseconds later the entries are encoded — JSON to UTF-8, in slices of at most
 * {@link SLICE_MS} between which the event loop runs — into one buffer per batch, which is
 * transferred (not copied) to the worker. Everything after that — MCAP records, chunk indexes,
 * zstd, the file — happens on the writer thread.
 *
 * The drop rule is {@link WriteQueue}'s: entries not yet written (queued here, in flight or in the
 * worker) count against `capacity`; past it telemetry and video are dropped and counted, and
 * control entries (commands, fates, episodes, link events) have a reserve of another `capacity`, at
 * least 4096 (a batch in flight holds some milliseconds of them, however small `capacity` is).
 */
export class RecordingWorker {
  readonly #worker: Worker;
  readonly #capacity: number;
  readonly #onError: (message: string, file: string) => void;
  readonly #channels = new Map<string, number>();
  readonly #stats: WriteQueueStats = { written: 0, dropped: 0, droppedControl: 0, pending: 0, highWater: 0 };
  #status: WorkerFileStatus = { file: undefined, files: [], bytes: 0, chunks: 0, counts: {} };
  // Pushed, not yet encoded.
  #pending: Pending[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #encoding = false;
  // The open batch.
  #bytes = new Uint8Array(64 * 1024);
  #used = 0;
  #index: number[] = [];
  #ops: { at: number; op: WorkerOp }[] = [];
  #entries = 0;
  // Batches posted and not yet written.
  #seq = 0;
  #inFlight = 0;
  readonly #waiting = new Map<number, () => void>();
  #closed: Promise<void> | undefined;
  #dead = false;

  private constructor(worker: Worker, capacity: number, onError: (message: string, file: string) => void) {
    this.#worker = worker;
    this.#capacity = capacity;
    this.#onError = onError;
  }

  /** Starts the writer thread and waits until its first file is open. */
  static async start(
    init: WorkerInit,
    options: { capacity: number; onError: (message: string, file: string) => void },
  ): Promise<RecordingWorker> {
    const w = new RecordingWorker(spawn(init), options.capacity, options.onError);
    await new Promise<void>((resolve, reject) => {
      w.#worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          w.#status = fileStatus(m);
          resolve();
        } else if (m.type === 'error' && !w.#status.file) reject(new Error(m.message));
        else w.#receive(m);
      });
      w.#worker.once('error', (error) => {
        w.#died(error);
        reject(error);
      });
      w.#worker.once('exit', () => w.#died(undefined));
    });
    return w;
  }

  /** Queues a JSON message; false when it was dropped. */
  message(cls: EntryClass, channel: ChannelDef, atMs: number, json: unknown): boolean {
    if (!this.#admit(cls)) return false;
    this.#push({ id: this.#channel(channel), atMs, json });
    return true;
  }

  /** Queues a video access unit (its bytes are copied when encoded; its JSON is made in the worker); false when it was dropped. */
  video(channel: ChannelDef, frameId: string, atMs: number, receivedAt: number, data: Uint8Array): boolean {
    if (!this.#admit('telemetry')) return false;
    this.#push({ id: this.#channel(channel, frameId), atMs, data, receivedAt });
    return true;
  }

  /** Queues an operation (episode, flush, rotate): control, in order with the messages. */
  op(op: WorkerOp): boolean {
    if (!this.#admit('control')) return false;
    this.#push({ op });
    return true;
  }

  /** Resolves once everything queued so far is written (at once if the writer is gone). */
  async drained(): Promise<void> {
    this.#encode(true);
    if (this.#dead || this.#inFlight === 0) return;
    const seq = this.#seq - 1;
    await new Promise<void>((resolve) => this.#waiting.set(seq, resolve));
  }

  stats(): WriteQueueStats {
    return { ...this.#stats, pending: this.#count() };
  }

  /** The file being written, as of the last batch written. */
  file(): WorkerFileStatus {
    return this.#status;
  }

  /** Writes what is queued, closes the file and ends the thread. Safe twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.drained();
      if (this.#dead) return;
      const closed = new Promise<void>((resolve) => {
        this.#worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
        this.#worker.once('exit', () => resolve());
      });
      this.#send({ type: 'close' });
      await closed;
      await this.#worker.terminate();
    })();
    return this.#closed;
  }

  /** Entries not yet written: queued here, in the open batch, posted. */
  #count() {
    return this.#pending.length - this.#head + this.#entries + this.#inFlight;
  }

  #admit(cls: EntryClass): boolean {
    const n = this.#count();
    if (
      this.#dead ||
      n >= (cls === 'control' ? this.#capacity + Math.max(this.#capacity, 4096) : this.#capacity)
    ) {
      if (cls === 'control') this.#stats.droppedControl++;
      else this.#stats.dropped++;
      return false;
    }
    if (n + 1 > this.#stats.highWater) this.#stats.highWater = n + 1;
    return true;
  }

  #channel(def: ChannelDef, frameId?: string): number {
    let id = this.#channels.get(def.topic);
    if (id === undefined) {
      id = this.#channels.size;
      this.#channels.set(def.topic, id);
      this.#send({ type: 'channel', id, def, ...(frameId !== undefined ? { video: { frameId } } : {}) });
    }
    return id;
  }

  #push(entry: Pending) {
    this.#pending.push(entry);
    if (!this.#encoding) this.#timer ??= setTimeout(() => this.#encode(false), POST_MS);
  }

  /**
   * Encodes what is queued into the open batch and posts it: everything at once when `all`,
   * otherwise in slices of {@link SLICE_MS}, going on in a later turn of the event loop.
   */
  #encode(all: boolean) {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const start = performance.now();
    let n = 0;
    while (this.#head < this.#pending.length) {
      const e = this.#pending[this.#head]!;
      this.#pending[this.#head++] = undefined as unknown as Pending;
      if (e.op) this.#ops.push({ at: this.#index.length / INDEX_STRIDE, op: e.op });
      else if (e.data) {
        this.#reserve(e.data.byteLength);
        this.#bytes.set(e.data, this.#used);
        this.#add(e.id, e.atMs, e.data.byteLength, e.receivedAt);
      } else {
        const text = JSON.stringify(e.json) ?? 'null';
        this.#reserve(text.length * 3);
        const { written } = encoder.encodeInto(text, this.#bytes.subarray(this.#used));
        this.#add(e.id!, e.atMs!, written, 0);
      }
      this.#entries++;
      if (this.#used >= POST_BYTES) this.#post();
      if (!all && (++n & 7) === 0 && performance.now() - start >= SLICE_MS) {
        this.#encoding = true;
        setImmediate(() => this.#encode(false));
        return;
      }
    }
    this.#encoding = false;
    this.#pending = [];
    this.#head = 0;
    this.#post();
  }

  /** Makes room for `n` more bytes in the open batch. */
  #reserve(n: number) {
    if (this.#used + n <= this.#bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#used + n));
    grown.set(this.#bytes.subarray(0, this.#used));
    this.#bytes = grown;
  }

  #add(id: number, atMs: number, length: number, stamp: number) {
    this.#index.push(id, atMs, this.#used, length, stamp);
    this.#used += length;
  }

  /** Transfers the open batch to the worker. */
  #post() {
    if (this.#entries === 0 || this.#dead) return;
    // The buffer goes to the worker whole (transferred); a small batch is cut to size first, so
    // the next one does not start by allocating the large buffer again.
    const full = this.#used > this.#bytes.byteLength / 2;
    const bytes = (full ? this.#bytes.buffer : this.#bytes.slice(0, this.#used).buffer) as ArrayBuffer;
    const index = Float64Array.from(this.#index);
    this.#send({ type: 'batch', seq: this.#seq++, bytes, index, ops: this.#ops }, [bytes, index.buffer]);
    this.#inFlight += this.#entries;
    if (full) this.#bytes = new Uint8Array(64 * 1024);
    this.#used = 0;
    this.#index = [];
    this.#ops = [];
    this.#entries = 0;
  }

  #send(m: ToWorker, transfer?: ArrayBuffer[]) {
    this.#worker.postMessage(m, transfer);
  }

  #receive(m: FromWorker) {
    if (m.type === 'done') {
      this.#inFlight -= m.entries;
      this.#stats.written += m.entries;
      this.#status = fileStatus(m);
      this.#waiting.get(m.seq)?.();
      this.#waiting.delete(m.seq);
    } else if (m.type === 'error') this.#onError(m.message, m.file);
  }

  #died(error: unknown) {
    if (this.#dead) return;
    this.#dead = true;
    clearTimeout(this.#timer);
    if (error !== undefined)
      this.#onError(`the writer thread died: ${String(error)}`, this.#status.file ?? '-');
    for (const resolve of this.#waiting.values()) resolve();
    this.#waiting.clear();
  }
}

const fileStatus = (m: WorkerFileStatus): WorkerFileStatus => ({
  file: m.file,
  files: m.files,
  bytes: m.bytes,
  chunks: m.chunks,
  counts: m.counts,
});

/**
 * The writer thread: `recorder-worker.js` beside this module once built; from the TypeScript
 * sources (tests, `tsx`), the `.ts` file through tsx's loader, registered in the thread itself.
 */
function spawn(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./recorder-worker.js', here), { workerData: init });
  // tsx's ESM API (its CommonJS one cannot register the ESM loader), found through its package.json.
  const pkg = createRequire(here).resolve('tsx/package.json');
  const api = (JSON.parse(readFileSync(pkg, 'utf8')) as TsxPackage).exports['./esm/api'].import.default;
  const tsx = pathToFileURL(join(dirname(pkg), api)).href;
  const entry = new URL('./recorder-worker.ts', here).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true, workerData: init },
  );
}

interface TsxPackage {
  exports: { './esm/api': { import: { default: string } } };
}
