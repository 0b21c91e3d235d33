import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@telekit/core';
import type { Observable, Subscription } from 'rxjs';
import type { DemandLevel } from './media-demand.js';
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
  /** How much the stream is wanted: the encoder runs unless `off`, the source only when `on`. */
  readonly level$: Observable<DemandLevel>;
  /** The stream's HLS directory: emptied when it stops, so no client is served a stale playlist. */
  readonly hlsDir?: string;
  readonly logger: Logger;
  /** A source that failed to start is tried again this long after, while the stream is on, ms. Default 2 000. */
  readonly retryMs?: number;
}

/**
 * Runs one stream's encoder and source as much as it is wanted: the encoder from `standby` on, the
 * source (a sim camera: it renders only then) at `on`. Each change is carried out in turn, and only
 * the latest wish counts: a stream wanted, unwanted and wanted again while it was starting simply
 * ends up running.
 *
 * The encoder starts first (ffmpeg takes a moment to start; a source with a TCP sink connects once
 * it listens); stopping stops the source first, so nothing writes to an encoder being stopped.
 */
export class StreamRunner {
  readonly #o: StreamRunnerOptions;
  readonly #sub: Subscription;
  #level: DemandLevel = 'off';
  #running = false;
  #stopSource: (() => Promise<void> | void) | undefined;
  #chain: Promise<void> = Promise.resolve();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: StreamRunnerOptions) {
    this.#o = options;
    this.#sub = options.level$.subscribe((level) => {
      this.#level = level;
      this.#reconcile();
    });
  }

  /** Whether its encoder runs now (started and not stopped). */
  get running(): boolean {
    return this.#running;
  }

  /** Whether someone wants it (on standby or not). */
  get wanted(): boolean {
    return this.#level !== 'off';
  }

  /** Resolves when every change asked for so far has been carried out. */
  settled(): Promise<void> {
    return this.#chain;
  }

  #reconcile(): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return;
      const level = this.#level;
      if (level === 'off') {
        if (this.#running) await this.#stop();
        return;
      }
      if (!this.#running) await this.#start();
      if (level === 'on' && !this.#stopSource) await this.#source();
      if (level === 'standby' && this.#stopSource) await this.#stopSourceNow();
    });
  }

  async #start(): Promise<void> {
    const { id, encoder, logger } = this.#o;
    logger.info('stream starting: someone watches', { stream: id });
    this.#running = true;
    await encoder
      .start()
      .catch((error: unknown) => logger.error('encoder did not start', { stream: id, error: String(error) }));
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

  async #stopSourceNow(): Promise<void> {
    const stop = this.#stopSource;
    this.#stopSource = undefined;
    try {
      await stop?.();
    } catch (error) {
      this.#o.logger.warn('stopping the stream’s source failed', {
        stream: this.#o.id,
        error: String(error),
      });
    }
  }

  async #stop(): Promise<void> {
    const { id, encoder, logger, hlsDir } = this.#o;
    logger.info('stream stopping: nobody watches', { stream: id });
    clearTimeout(this.#retry);
    this.#running = false;
    await this.#stopSourceNow();
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
      await this.#stopSourceNow();
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
