import type { Observable } from 'rxjs';
import type { Clock } from '../clock.js';
import type { Logger } from './logger.js';
import type { Token } from './token.js';

/** What kind of thing a plugin is; informative, for health pages and logs. */
export type PluginKind = 'transport' | 'simulator' | 'media' | 'gateway' | 'ui' | 'app' | (string & {});

/** Undoes what `setup` did. */
export type Teardown = () => void | Promise<void>;

/** A plugin's health. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly detail?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What the host hands a plugin's `setup`. */
export interface PluginContext {
  /** The app's name. */
  readonly app: string;
  /** This plugin's name. */
  readonly plugin: string;
  /** A logger bound to this plugin's name. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborted when the app starts stopping. */
  readonly signal: AbortSignal;
  /** Emits once when the app starts stopping: put it last in a pipe with `takeUntil`. */
  readonly stop$: Observable<void>;
  /** Resolves a token this plugin `requires` (or `optional`); throws for an undeclared one. */
  resolve<T>(token: Token<T>): T;
  /** Like `resolve`, but `undefined` when nothing provides it (for `optional` tokens). */
  tryResolve<T>(token: Token<T>): T | undefined;
  /** Provides a token this plugin declared in `provides`. */
  provide<T>(token: Token<T>, value: T): void;
  /** Registers a teardown; teardowns run in reverse order of registration, before the returned one. */
  onTeardown(teardown: Teardown): void;
  /** The whole app's health (for a gateway's readiness endpoint). */
  appHealth(): Promise<AppHealthReport>;
}

/** The app's health as a plugin sees it (see `App.health`). */
export interface AppHealthReport {
  readonly status: HealthReport['status'];
  readonly plugins: Readonly<Record<string, HealthReport>>;
}

/**
 * A plugin: a plain object, usually returned by a factory (`gateway(opts)`, `genesisSim(opts)`).
 *
 * @example
 * ```ts
 * import { type Plugin, TransportToken, Topics } from '@telekit/core';
 * export function logTwists(): Plugin {
 *   return {
 *     name: 'log-twists',
 *     requires: [TransportToken],
 *     setup(ctx) {
 *       const sub = ctx.resolve(TransportToken).subscribe(Topics.twist).subscribe((t) => ctx.logger.info('twist', { x: t.linear.x }));
 *       return () => sub.unsubscribe();
 *     },
 *   };
 * }
 * ```
 */
export interface Plugin {
  /** Unique within an app; for published plugins, the package name. */
  readonly name: string;
  readonly kind?: PluginKind;
  /** Tokens this plugin provides in `setup`. */
  readonly provides?: readonly Token<unknown>[];
  /** Tokens it needs; their providers are set up first. */
  readonly requires?: readonly Token<unknown>[];
  /** Tokens it uses when present; their providers, if any, are set up first. */
  readonly optional?: readonly Token<unknown>[];
  // biome-ignore lint/suspicious/noConfusingVoidType: a setup that returns nothing is the common case, as with Vite hooks
  setup(ctx: PluginContext): void | Teardown | Promise<void | Teardown>;
  /** The plugin's health; the app reports `ok` for plugins without one. */
  health?(): HealthReport | Promise<HealthReport>;
  /**
   * Stops every actuator the plugin can reach, at once and synchronously: the process is about to
   * die (a crash; see `haltOnCrash` in `@telekit/core/node`). It must not throw and must not wait;
   * nothing after it is guaranteed to run. Plugins that move nothing leave it out.
   */
  halt?(): void;
}
