import type { Header } from '../schemas/common.js';

/**
 * Recognises copies of a message already seen: same topic, `header.sender`, `header.seq` and
 * `header.stamp` (the stamp tells a copy from a restarted sender that counts from 0 again). It
 * remembers the last `window` sequence numbers per sender and topic and at most `senders` senders
 * per filter, forgetting the oldest first, so hostile input cannot grow it without bound.
 */
export class DuplicateFilter {
  readonly #window: number;
  readonly #senders: number;
  // `${topic} ${sender}` → seq → stamp, oldest first (a Map keeps insertion order).
  readonly #seen = new Map<string, Map<number, number>>();

  constructor(options: { window?: number; senders?: number } = {}) {
    this.#window = options.window ?? 64;
    this.#senders = options.senders ?? 1024;
  }

  /** True when `message` on `topic` was seen already; otherwise remembers it. */
  isDuplicate(topic: string, message: unknown): boolean {
    const header = (message as { header?: Header } | null)?.header;
    if (!header) return false;
    const key = `${topic} ${header.sender}`;
    let seqs = this.#seen.get(key);
    if (!seqs) {
      if (this.#seen.size >= this.#senders) this.#seen.delete(this.#seen.keys().next().value!);
      seqs = new Map();
      this.#seen.set(key, seqs);
    }
    if (seqs.get(header.seq) === header.stamp) return true;
    seqs.set(header.seq, header.stamp);
    if (seqs.size > this.#window) seqs.delete(seqs.keys().next().value!);
    return false;
  }
}
