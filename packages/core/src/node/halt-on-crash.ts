import type { App } from '../host/create-app.js';
import type { Logger } from '../host/logger.js';

/** Options of {@link haltOnCrash}. */
export interface HaltOnCrashOptions {
  /** Where the crash is reported. */
  logger?: Pick<Logger, 'error'>;
  /** Exit code after halting. Default 1. */
  exitCode?: number;
}

/**
 * The last-resort handler of a process that moves something: on an uncaught exception or an
 * unhandled rejection it reports the error, calls `app.halt()` (each plugin stops the actuators it
 * can reach, synchronously), and exits. Children started with `spawnChild` then get their parent's
 * death signal, and a simulator sidecar stops its robot by itself too. Returns a function that
 * removes the handlers.
 *
 * @example
 * ```ts
 * import { createApp } from '@telekit/core';
 * import { haltOnCrash } from '@telekit/core/node';
 * const app = createApp({ plugins });
 * haltOnCrash(app);
 * await app.start();
 * ```
 */
export function haltOnCrash(app: Pick<App, 'halt'>, options: HaltOnCrashOptions = {}): () => void {
  const exitCode = options.exitCode ?? 1;
  const crash = (kind: string) => (error: unknown) => {
    try {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (options.logger) options.logger.error(`${kind}: halting`, { error: message });
      else process.stderr.write(`${kind}: halting the app\n${message}\n`);
    } finally {
      app.halt();
      process.exit(exitCode);
    }
  };
  const onException = crash('uncaught exception');
  const onRejection = crash('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
