/** What a queued entry is, for what is dropped first when the queue is full. */
export type EntryClass = 'control' | 'telemetry';

/** Counters of a {@link WriteQueue}. */
export interface WriteQueueStats {
  /** Entries written. */
  written: number;
  /** Telemetry and video entries dropped because the queue was full. */
  dropped: number;
  /** Control entries (commands, fates, events) dropped because even their reserve was full. */
  droppedControl: number;
  /** Waiting now. */
  pending: number;
  /** The most that ever waited at once. */
  highWater: number;
}

/**
 * A bounded queue in front of the file: producers (the transport's feeds, the video tap) only ever
 * push, which costs an array append and never waits; one drain loop writes in the background, at most
 * `sliceMs` (default 1) of work before it yields to the event loop, so the control lane's handlers run between
 * slices however far behind the file is.
 *
 * When `capacity` entries wait, telemetry (and video) is dropped and counted; control entries
 * (commands, their fates, lease and e-stop events) have a reserve of another `capacity` before they
 * too are dropped and counted.
 */
export class WriteQueue<T> {
  readonly #items: { cls: EntryClass; item: T }[] = [];
  readonly #write: (item: T) => Promise<void>;
  readonly #capacity: number;
  readonly #sliceMs: number;
  readonly #onError: (error: unknown) => void;
  #draining: Promise<void> | undefined;
  readonly #stats: WriteQueueStats = { written: 0, dropped: 0, droppedControl: 0, pending: 0, highWater: 0 };

  constructor(options: {
    write: (item: T) => Promise<void>;
    capacity: number;
    sliceMs?: number;
    onError: (error: unknown) => void;
  }) {
    this.#write = options.write;
    this.#capacity = options.capacity;
    this.#sliceMs = options.sliceMs ?? 1;
    this.#onError = options.onError;
  }

  /** Queues an entry; false when it was dropped. Never waits. */
  push(cls: EntryClass, item: T): boolean {
    const n = this.#items.length;
    if (n >= this.#capacity * (cls === 'control' ? 2 : 1)) {
      if (cls === 'control') this.#stats.droppedControl++;
      else this.#stats.dropped++;
      return false;
    }
    this.#items.push({ cls, item });
    if (n + 1 > this.#stats.highWater) this.#stats.highWater = n + 1;
    this.#draining ??= this.#drain();
    return true;
  }

  /** Resolves once everything queued so far is written. */
  async drained(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  stats(): Readonly<WriteQueueStats> {
    return { ...this.#stats, pending: this.#items.length };
  }

  async #drain(): Promise<void> {
    try {
      // Start in a later turn: the producer that queued the first entry is never held up by a write.
      await yieldToEventLoop();
      let sliceStart = performance.now();
      for (let next = this.#items.shift(); next; next = this.#items.shift()) {
        try {
          await this.#write(next.item);
          this.#stats.written++;
        } catch (error) {
          this.#onError(error);
        }
        if (performance.now() - sliceStart >= this.#sliceMs) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
