/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The logger every plugin gets from the host, already bound to its name. Node apps pass a pino
 * adapter (the gateway ships one); the default writes to the console.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `bindings` too. */
  child(bindings: LogFields): Logger;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger writing one line per call to the console, from `level` up.
 *
 * @example
 * ```ts
 * import { consoleLogger } from '@telekit/core';
 * const log = consoleLogger({ level: 'info' }).child({ plugin: 'my-plugin' });
 * log.info('ready', { port: 8080 }); // info [plugin:my-plugin] ready {"port":8080}
 * ```
 */
export function consoleLogger(options: { level?: LogLevel; bindings?: LogFields } = {}): Logger {
  const threshold = order[options.level ?? 'info'];
  const bindings = options.bindings ?? {};
  const prefix = Object.entries(bindings)
    .map(([k, v]) => `[${k}:${String(v)}]`)
    .join('');
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (order[level] < threshold) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : '';
    const line = `${level} ${prefix}${prefix ? ' ' : ''}${message}${extra}`;
    (level === 'error' ? console.error : level === 'warn' ? console.warn : console.log)(line);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger({ level: options.level ?? 'info', bindings: { ...bindings, ...more } }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

function safeJson(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_k, v: unknown) =>
      v instanceof Error ? { message: v.message, name: v.name } : v,
    );
  } catch {
    return '[unserialisable fields]';
  }
}
