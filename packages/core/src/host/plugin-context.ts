/**
 * What a plugin sees of its app: the context handed to its `setup` (resolving and providing only the
 * tokens it declared), its health asked within a time limit, and the time limit itself.
 */
import type { Observable } from 'rxjs';
import type { Clock } from '../clock.js';
import { attributeError, TelekitError } from '../errors.js';
import type { Logger } from './logger.js';
import type { HealthReport, Plugin, PluginContext, Teardown } from './plugin.js';
import { type Token, tokenName } from './token.js';

/** What the app lends every plugin's context. */
export interface PluginHost {
  readonly app: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly stop$: Observable<void>;
  /** The value provided for a token, if any. */
  lookup<T>(t: Token<T>): T | undefined;
  /** Whether a value was provided for a token. */
  has(t: Token<unknown>): boolean;
  /** Provides a token's value to the plugins set up after. */
  register<T>(t: Token<T>, value: T): void;
  appHealth: PluginContext['appHealth'];
}

/**
 * The context of one plugin: it may resolve what it requires or optionally uses, and provide what
 * it declared, nothing else (`E_PLUGIN_UNDECLARED` names the token); `teardowns` collects what it
 * registers with `onTeardown`.
 */
export function pluginContext(
  plugin: Plugin,
  teardowns: Teardown[],
  host: PluginHost,
  builtIns: ReadonlySet<Token<unknown>>,
): PluginContext {
  const allowed = new Set<Token<unknown>>([
    ...builtIns,
    ...(plugin.requires ?? []),
    ...(plugin.optional ?? []),
    ...(plugin.provides ?? []),
  ]);
  const fail = (code: string, message: string, operation: string, t: Token<unknown>) =>
    new TelekitError(code, message, {
      plugin: plugin.name,
      operation,
      context: { plugin: plugin.name, token: tokenName(t) },
    });
  const check = (t: Token<unknown>, operation: string) => {
    if (!allowed.has(t))
      throw fail('E_PLUGIN_UNDECLARED', `${operation} of a token the plugin did not declare`, operation, t);
  };
  return {
    app: host.app,
    plugin: plugin.name,
    logger: host.logger.child({ plugin: plugin.name }),
    clock: host.clock,
    signal: host.signal,
    stop$: host.stop$,
    resolve<T>(t: Token<T>): T {
      check(t, 'resolve');
      const value = host.lookup(t);
      if (value === undefined)
        throw fail('E_PLUGIN_MISSING_DEPENDENCY', 'nothing provides this token', 'resolve', t);
      return value;
    },
    tryResolve<T>(t: Token<T>): T | undefined {
      check(t, 'resolve');
      return host.lookup(t);
    },
    provide<T>(t: Token<T>, value: T): void {
      if (!(plugin.provides ?? []).includes(t))
        throw fail(
          'E_PLUGIN_UNDECLARED',
          "provide of a token missing from the plugin's provides",
          'provide',
          t,
        );
      if (host.has(t)) throw fail('E_PLUGIN_DUPLICATE', 'token provided twice', 'provide', t);
      host.register(t, value);
    },
    onTeardown(teardown) {
      teardowns.push(teardown);
    },
    appHealth: host.appHealth,
  };
}

/**
 * Sets one plugin up within `timeoutMs`, with its {@link pluginContext}: the teardown its setup returns runs first of its teardowns,
 * and a setup that ends without providing a token it declared fails (`E_PLUGIN_SETUP`).
 */
export async function setUp(
  plugin: Plugin,
  teardowns: Teardown[],
  host: PluginHost,
  builtIns: ReadonlySet<Token<unknown>>,
  timeoutMs: number,
): Promise<void> {
  const ctx = pluginContext(plugin, teardowns, host, builtIns);
  const returned = await withTimeout(
    Promise.resolve().then(() => plugin.setup(ctx)),
    timeoutMs,
    plugin.name,
    'setup',
  );
  if (typeof returned === 'function') teardowns.unshift(returned);
  for (const t of plugin.provides ?? [])
    if (!host.has(t))
      throw new TelekitError('E_PLUGIN_SETUP', 'setup finished without providing a declared token', {
        plugin: plugin.name,
        operation: 'setup',
        context: { plugin: plugin.name, token: tokenName(t) },
      });
}

/**
 * Runs the teardowns of the started plugins in the order given (the app passes them last first),
 * each plugin's own last first; a teardown that throws is logged and collected, and the rest run.
 */
export async function tearDownAll(
  started: readonly { plugin: Plugin; teardowns: Teardown[] }[],
  logger: Logger,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const { plugin, teardowns } of started) {
    for (const teardown of teardowns.reverse()) {
      try {
        await teardown();
      } catch (error) {
        const err = attributeError(error, plugin.name, 'teardown', 'E_PLUGIN_TEARDOWN');
        logger.error('teardown failed', { plugin: plugin.name, error: err.message });
        errors.push(err);
      }
    }
    logger.debug('stopped', { plugin: plugin.name });
  }
  return errors;
}

/**
 * The last resort before the process dies: each plugin's `halt()` in the order given (the app
 * passes them last first), synchronously; a throw is swallowed so that every plugin gets its turn.
 */
export function haltAll(started: readonly { plugin: Plugin }[]): void {
  for (const { plugin } of started) {
    try {
      plugin.halt?.();
    } catch {
      // The process is dying: the next plugin's stop matters more than this error.
    }
  }
}

/** A plugin's health, asked within `timeoutMs`; a check that throws or takes longer reports it down. */
export async function pluginHealth(plugin: Plugin, timeoutMs: number): Promise<HealthReport> {
  if (!plugin.health) return { status: 'ok' };
  try {
    return await withTimeout(
      Promise.resolve().then(() => plugin.health!()),
      timeoutMs,
      plugin.name,
      'health',
    );
  } catch (error) {
    return {
      status: 'down',
      detail: attributeError(error, plugin.name, 'health', 'E_PLUGIN_HEALTH').message,
    };
  }
}

/** `work`, or an `E_TIMEOUT` naming the plugin and the operation after `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, plugin: string, operation: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TelekitError('E_TIMEOUT', `${operation} timed out`, {
            plugin,
            operation,
            context: { plugin, ms },
          }),
        ),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
