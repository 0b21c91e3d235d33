import 'reflect-metadata';
import { BehaviorSubject, type Observable, Subject } from 'rxjs';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { type Clock, systemClock } from '../clock.js';
import { attributeError, TelekitError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { consoleLogger, type Logger } from './logger.js';
import { orderPlugins } from './order-plugins.js';
import type { HealthReport, Plugin, Teardown } from './plugin.js';
import { haltAll, type PluginHost, pluginHealth, setUp, tearDownAll } from './plugin-context.js';
import { type Token, tokenName } from './token.js';
import { ClockToken, LoggerToken, TransportToken } from './tokens.js';

/** An app's lifecycle. */
export type AppState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** The app's health: the worst of its plugins'. */
export interface AppHealth {
  readonly status: HealthReport['status'];
  readonly state: AppState;
  readonly plugins: Readonly<Record<string, HealthReport>>;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** For logs. Default `telekit`. */
  name?: string;
  /** The plugins; `false`, `null` and `undefined` entries are skipped, so `cond && plugin()` works. */
  plugins: readonly (Plugin | false | null | undefined)[];
  logger?: Logger;
  clock?: Clock;
  /** How long one plugin's setup may take, ms. Default 60 000. */
  setupTimeoutMs?: number;
  /** How long one plugin's health check may take before it counts as down, ms. Default 2 000. */
  healthTimeoutMs?: number;
}

/** A composed application. */
export interface App {
  readonly name: string;
  /** Plugin names in setup order. */
  readonly plugins: readonly string[];
  readonly state: AppState;
  readonly state$: Observable<AppState>;
  /** Sets the plugins up in dependency order. On a failure, tears down what was set up and rejects. */
  start(): Promise<void>;
  /** Tears the plugins down in reverse order. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * The last resort before the process dies: every started plugin's `halt()`, in reverse order,
   * synchronously; errors are swallowed so that every plugin gets its turn.
   */
  halt(): void;
  resolve<T>(token: Token<T>): T;
  tryResolve<T>(token: Token<T>): T | undefined;
  /** The app's transport (provided by one of its plugins). */
  readonly transport: Transport;
  health(): Promise<AppHealth>;
}

const builtIns = new Set<Token<unknown>>([ClockToken, LoggerToken]);

/**
 * Composes plugins into an app: one child DI container per app, plugins ordered by what they
 * require and provide, failures attributed to the plugin that threw, teardown in reverse order.
 *
 * Throws at once, naming the plugins and tokens, for a missing or cyclic dependency, a duplicate
 * name or a token provided twice.
 *
 * @example
 * ```ts
 * import { createApp, inProcessTransport, type Plugin, TransportToken } from '@telekit/core';
 * const transportPlugin: Plugin = {
 *   name: 'transport',
 *   provides: [TransportToken],
 *   setup(ctx) {
 *     const t = inProcessTransport();
 *     ctx.provide(TransportToken, t);
 *     return () => t.close();
 *   },
 * };
 * const app = createApp({ plugins: [transportPlugin] });
 * await app.start();
 * await app.stop();
 * ```
 */
export function createApp(options: AppOptions): App {
  const name = options.name ?? 'telekit';
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? consoleLogger()).child({ app: name });
  const setupTimeoutMs = options.setupTimeoutMs ?? 60_000;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const plugins = orderPlugins(
    options.plugins.filter((p): p is Plugin => p !== false && p !== null && p !== undefined),
    builtIns,
  );

  const state = new BehaviorSubject<AppState>('idle');
  const abort = new AbortController();
  const stop$ = new Subject<void>();
  let container: DependencyContainer | undefined;
  const started: { plugin: Plugin; teardowns: Teardown[] }[] = [];
  let stopping: Promise<void> | undefined;

  const lookup = <T>(t: Token<T>): T | undefined => {
    if (!container?.isRegistered(t)) return undefined;
    return container.resolve<T>(t);
  };

  const host: PluginHost = {
    app: name,
    logger,
    clock,
    signal: abort.signal,
    stop$: stop$.asObservable(),
    lookup,
    has: (t) => container?.isRegistered(t) ?? false,
    register: (t, value) => container!.register(t, { useValue: value }),
    appHealth: () => app.health(),
  };

  const tearDown = async (): Promise<unknown[]> => {
    const errors = await tearDownAll(started.reverse(), logger);
    started.length = 0;
    await container?.dispose();
    return errors;
  };

  const app: App = {
    halt: () => haltAll([...started].reverse()),
    name,
    plugins: plugins.map((p) => p.name),
    get state() {
      return state.value;
    },
    state$: state.asObservable(),
    async start() {
      if (state.value !== 'idle') {
        throw new TelekitError('E_APP_STATE', 'an app starts once', {
          operation: 'start',
          context: { state: state.value },
        });
      }
      state.next('starting');
      container = rootContainer.createChildContainer();
      container.register(ClockToken, { useValue: clock });
      container.register(LoggerToken, { useValue: logger });
      for (const plugin of plugins) {
        const teardowns: Teardown[] = [];
        started.push({ plugin, teardowns });
        try {
          await setUp(plugin, teardowns, host, builtIns, setupTimeoutMs);
          logger.debug('started', { plugin: plugin.name });
        } catch (error) {
          const err = attributeError(error, plugin.name, 'setup');
          logger.error('setup failed', { plugin: plugin.name, error: err.message });
          abort.abort(err);
          stop$.next();
          stop$.complete();
          await tearDown();
          state.next('failed');
          state.complete();
          throw err;
        }
      }
      state.next('running');
    },
    stop() {
      if (stopping) return stopping;
      stopping = (async () => {
        if (state.value === 'idle') {
          state.next('stopped');
          state.complete();
          return;
        }
        if (state.value !== 'running') return;
        state.next('stopping');
        abort.abort(new TelekitError('E_APP_STATE', 'app stopping', { operation: 'stop' }));
        stop$.next();
        stop$.complete();
        const errors = await tearDown();
        state.next('stopped');
        state.complete();
        if (errors.length > 0) {
          throw new TelekitError('E_PLUGIN_TEARDOWN', `${errors.length} plugin(s) failed to tear down`, {
            operation: 'stop',
            cause: new AggregateError(errors),
          });
        }
      })();
      return stopping;
    },
    resolve<T>(t: Token<T>): T {
      const value = lookup(t);
      if (value === undefined) {
        throw new TelekitError(
          'E_PLUGIN_MISSING_DEPENDENCY',
          'nothing provides this token (is the app started?)',
          {
            operation: 'resolve',
            context: { token: tokenName(t), state: state.value },
          },
        );
      }
      return value;
    },
    tryResolve: lookup,
    get transport() {
      return app.resolve(TransportToken);
    },
    async health() {
      const running = state.value === 'running';
      const reports: Record<string, HealthReport> = {};
      await Promise.all(
        plugins.map(async (plugin) => {
          reports[plugin.name] = running
            ? await pluginHealth(plugin, healthTimeoutMs)
            : { status: 'down', detail: `app is ${state.value}` };
        }),
      );
      const statuses = Object.values(reports).map((r) => r.status);
      const status =
        !running || statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok';
      return { status, state: state.value, plugins: reports };
    },
  };
  return app;
}
