/**
 * Errors raised by Telekit and its plugins.
 *
 * Every error carries a stable `code`, the `plugin` it came from (stamped by the host), the
 * `operation` that failed and the original `cause`. Messages are lower case and carry context as
 * `[key:value]` pairs, so logs read the same across packages.
 *
 * Recognise errors with {@link isTelekitError}, not `instanceof`: two copies of `@telekit/core` in one
 * bundle have two `TelekitError` classes but share the `Symbol.for` brand.
 *
 * @module
 */

import type { KnownErrorCode } from './error-codes.js';

const brand: unique symbol = Symbol.for('@telekit/core/TelekitError') as never;

/**
 * Stable error codes: one of {@link errorCodes} (each with what it means), or a plugin's own
 * (prefixed with its short name).
 */
export type ErrorCode = KnownErrorCode | (string & {});

/** Options accepted by {@link TelekitError}. */
export interface TelekitErrorOptions {
  /** The plugin the error came from; the host stamps it when a plugin throws. */
  plugin?: string;
  /** What was being done, e.g. `setup`, `publish`, `loadScene`. */
  operation?: string;
  /** The underlying error. */
  cause?: unknown;
  /** Extra context, rendered into the message as `[key:value]`. */
  context?: Record<string, string | number | boolean | undefined>;
}

/**
 * The base class of every error Telekit throws.
 *
 * @example
 * ```ts
 * import { TelekitError, isTelekitError } from '@telekit/core';
 * const err = new TelekitError('E_TIMEOUT', 'scene did not load', { operation: 'loadScene', context: { ms: 5000 } });
 * isTelekitError(err); // true
 * err.message; // 'scene did not load [ms:5000]'
 * ```
 */
export class TelekitError extends Error {
  readonly [brand] = true;
  readonly code: ErrorCode;
  /** Set by the host when the error leaves a plugin. */
  plugin: string | undefined;
  readonly operation: string | undefined;
  readonly context: Readonly<Record<string, string | number | boolean | undefined>>;

  constructor(code: ErrorCode, message: string, options: TelekitErrorOptions = {}) {
    super(
      formatMessage(message, options.context),
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'TelekitError';
    this.code = code;
    this.plugin = options.plugin;
    this.operation = options.operation;
    this.context = { ...options.context };
  }

  /** `code`, `plugin`, `operation`, `message` and the cause's message, for structured logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      plugin: this.plugin,
      operation: this.operation,
      message: this.message,
      context: this.context,
      cause: this.cause instanceof Error ? this.cause.message : this.cause,
    };
  }
}

/** True for any `TelekitError`, including one from another copy of this package. */
export function isTelekitError(value: unknown): value is TelekitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/**
 * Returns `error` with `plugin` (and `operation`) attached: a `TelekitError` without a plugin is
 * stamped in place; anything else is wrapped in a new `TelekitError` with `code` and the original as
 * `cause`.
 */
export function attributeError(
  error: unknown,
  plugin: string,
  operation: string,
  code: ErrorCode = 'E_PLUGIN_SETUP',
): TelekitError {
  if (isTelekitError(error)) {
    if (error.plugin === undefined) error.plugin = plugin;
    return error;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new TelekitError(code, `${operation} failed: ${reason}`, {
    plugin,
    operation,
    cause: error,
    context: { plugin },
  });
}

function formatMessage(message: string, context: TelekitErrorOptions['context']): string {
  if (!context) return message;
  const parts = Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `[${k}:${String(v)}]`);
  return parts.length === 0 ? message : `${message} ${parts.join('')}`;
}
