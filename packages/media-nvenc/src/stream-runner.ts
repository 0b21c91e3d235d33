import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@telekit/core';
import type { Observable, Subscription } from 'rxjs';
import type { SupervisedEncoder } from './supervised-encoder.js';

/** Options of {@link StreamRunner}. */
export interface StreamRunnerOptions {
  readonly id: string;
  readonly encoder: SupervisedEncoder;
  /**
   * Starts whatever feeds the encoder (a simulator's camera through `sendTo`, a `frames$`
   * subscription) and resolves with the function that stops it. Absent for inputs ffmpeg reads
   * itself (its test pattern, a V4L2 camera).
   */
  readonly startSource?: () => Promise<() => Promise<void> | void>;
  /** Whether the stream should run (the demand). */
  readonly wanted$: Observable<boolean>;
  /** The stream's HLS directory: emptied when it stops, so no client is served a stale playlist. */
  readonly hlsDir?: string;
  readonly logger: Logger;
  /** A source that failed to start is tried again this long after, while the stream is wanted, ms. Default 2 000. */
  readonly retryMs?: number;
}

/**
 * Runs one stream's encoder and source while it is wanted, and stops both when it is not. Each
 * change is carried out in turn, and only the latest wish counts: a stream wanted, unwanted and
 * wanted again while it was starting simply ends up running.
 *
 * Starting starts the encoder and the source together (a source with a TCP sink connects once the
 * encoder listens); stopping stops the source first, so nothing writes to an encoder being stopped.
 */
export class StreamRunner {
  readonly #o: StreamRunnerOptions;
  readonly #sub: Subscription;
  #wanted = false;
  #running = false;
  #stopSource: (() => Promise<void> | void) | undefined;
  #chain: Promise<void> = Promise.resolve();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: StreamRunnerOptions) {
    this.#o = options;
    this.#sub = options.wanted$.subscribe((wanted) => {
      this.#wanted = wanted;
      this.#reconcile();
    });
  }

  /** Whether it runs now (encoder started and source asked to start). */
  get running(): boolean {
    return this.#running;
  }

  /** Whether someone wants it. */
  get wanted(): boolean {
    return this.#wanted;
  }

  /** Resolves when every change asked for so far has been carried out. */
  settled(): Promise<void> {
    return this.#chain;
  }

  #reconcile(): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return;
      if (this.#wanted && !this.#running) await this.#start();
      else if (!this.#wanted && this.#running) await this.#stop();
      else if (this.#wanted && this.#running && !this.#stopSource && this.#o.startSource)
        await this.#source();
    });
  }

  async #start(): Promise<void> {
    const { id, encoder, logger } = this.#o;
    logger.info('stream starting: someone watches', { stream: id });
    this.#running = true;
    await Promise.all([
      encoder
        .start()
        .catch((error: unknown) =>
          logger.error('encoder did not start', { stream: id, error: String(error) }),
        ),
      this.#source(),
    ]);
  }

  async #source(): Promise<void> {
    const { id, startSource, logger } = this.#o;
    if (!startSource) return;
    clearTimeout(this.#retry);
    try {
      this.#stopSource = await startSource();
    } catch (error) {
      logger.error('the stream’s source did not start; trying again', {
        stream: id,
        error: error instanceof Error ? error.message : String(error),
      });
      this.#retry = setTimeout(() => this.#reconcile(), this.#o.retryMs ?? 2_000);
      this.#retry.unref?.();
    }
  }

  async #stop(): Promise<void> {
    const { id, encoder, logger, hlsDir } = this.#o;
    logger.info('stream stopping: nobody watches', { stream: id });
    clearTimeout(this.#retry);
    const stop = this.#stopSource;
    this.#stopSource = undefined;
    this.#running = false;
    try {
      await stop?.();
    } catch (error) {
      logger.warn('stopping the stream’s source failed', { stream: id, error: String(error) });
    }
    await encoder.stop();
    if (hlsDir) emptyDirectory(hlsDir);
  }

  /** Stops the source and the encoder for good (the encoder's owner closes it). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sub.unsubscribe();
    await this.#chain;
    this.#closed = true;
    clearTimeout(this.#retry);
    if (this.#running) {
      this.#running = false;
      await this.#stopSource?.();
      this.#stopSource = undefined;
      await this.#o.encoder.stop();
    }
  }
}

function emptyDirectory(dir: string): void {
  try {
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
  } catch {
    // gone already: nothing to serve
  }
}
