import { describe, expect, it } from 'vitest';
import { isTelekitError, type TelekitError } from '../errors.js';
import { inProcessTransport } from '../transport/in-process-transport.js';
import { createApp } from './create-app.js';
import { silentLogger } from './logger.js';
import type { Plugin } from './plugin.js';
import { token } from './token.js';
import { ClockToken, LoggerToken, TransportToken } from './tokens.js';

const A = token<{ a: number }>('@test/A');
const B = token<{ b: number }>('@test/B');
const C = token<string>('@test/C');

function recorder() {
  const log: string[] = [];
  const plugin = (name: string, spec: Partial<Plugin> & { value?: () => unknown } = {}): Plugin => ({
    name,
    ...spec,
    setup(ctx) {
      log.push(`setup ${name}`);
      for (const t of spec.provides ?? []) ctx.provide(t, spec.value?.() ?? { name });
      for (const t of spec.requires ?? []) ctx.resolve(t);
      return () => {
        log.push(`teardown ${name}`);
      };
    },
  });
  return { log, plugin };
}

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as TelekitError;
  }
  throw new Error('expected a throw');
};

describe('createApp', () => {
  it('sets plugins up in dependency order and tears down in reverse', async () => {
    const { log, plugin } = recorder();
    const app = createApp({
      logger: silentLogger,
      plugins: [
        plugin('ui', { requires: [B] }),
        plugin('sim', { requires: [A], provides: [B] }),
        plugin('transport', { provides: [A] }),
      ],
    });
    expect(app.plugins).toEqual(['transport', 'sim', 'ui']);
    await app.start();
    expect(app.state).toBe('running');
    await app.stop();
    await app.stop();
    expect(log).toEqual([
      'setup transport',
      'setup sim',
      'setup ui',
      'teardown ui',
      'teardown sim',
      'teardown transport',
    ]);
    expect(app.state).toBe('stopped');
  });

  it('accepts `cond && plugin()` entries', () => {
    const { plugin } = recorder();
    const app = createApp({ logger: silentLogger, plugins: [false, null, undefined, plugin('only')] });
    expect(app.plugins).toEqual(['only']);
  });

  it('reports a missing dependency with the plugin and the token', () => {
    const { plugin } = recorder();
    const e = errorOf(() => createApp({ plugins: [plugin('ui', { requires: [A] })] }));
    expect(e.code).toBe('E_PLUGIN_MISSING_DEPENDENCY');
    expect(e.plugin).toBe('ui');
    expect(e.message).toBe('plugin requires a token that no plugin provides [plugin:ui][token:@test/A]');
  });

  it('reports a cycle with its path', () => {
    const { plugin } = recorder();
    const e = errorOf(() =>
      createApp({
        plugins: [
          plugin('x', { provides: [A], requires: [C] }),
          plugin('y', { provides: [B], requires: [A] }),
          plugin('z', { provides: [C], requires: [B] }),
        ],
      }),
    );
    expect(e.code).toBe('E_PLUGIN_CYCLE');
    expect(e.message).toContain('x → z → y → x');
  });

  it('refuses duplicate names, tokens provided twice and malformed plugins', () => {
    const { plugin } = recorder();
    expect(errorOf(() => createApp({ plugins: [plugin('a'), plugin('a')] })).code).toBe('E_PLUGIN_DUPLICATE');
    const twice = errorOf(() =>
      createApp({ plugins: [plugin('a', { provides: [A] }), plugin('b', { provides: [A] })] }),
    );
    expect(twice.message).toContain('[token:@test/A][first:a][second:b]');
    expect(errorOf(() => createApp({ plugins: [{ name: 'no-setup' } as unknown as Plugin] })).code).toBe(
      'E_PLUGIN_INVALID',
    );
  });

  it("stamps the plugin's name on what its setup throws, and tears down what was set up", async () => {
    const { log, plugin } = recorder();
    const app = createApp({
      logger: silentLogger,
      plugins: [
        plugin('good', { provides: [A] }),
        {
          name: 'bad',
          requires: [A],
          setup() {
            throw new TypeError('cannot open device');
          },
        },
      ],
    });
    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTelekitError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'E_PLUGIN_SETUP', plugin: 'bad', operation: 'setup' });
    expect((error as Error).message).toBe('setup failed: cannot open device [plugin:bad]');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(log).toEqual(['setup good', 'teardown good']);
    expect(app.state).toBe('failed');
  });

  it('refuses undeclared resolves and provides, and a declared token left unprovided', async () => {
    const sneaky = createApp({
      logger: silentLogger,
      plugins: [
        { name: 'p', provides: [A], setup: (ctx) => ctx.provide(A, { a: 1 }) },
        { name: 'q', setup: (ctx) => void ctx.resolve(A) },
      ],
    });
    await expect(sneaky.start()).rejects.toMatchObject({ code: 'E_PLUGIN_UNDECLARED', plugin: 'q' });
    const lazy = createApp({
      logger: silentLogger,
      plugins: [{ name: 'p', provides: [A], setup: () => {} }],
    });
    await expect(lazy.start()).rejects.toThrow(
      'setup finished without providing a declared token [plugin:p][token:@test/A]',
    );
    const greedy = createApp({
      logger: silentLogger,
      plugins: [{ name: 'p', setup: (ctx) => ctx.provide(B, { b: 1 }) }],
    });
    await expect(greedy.start()).rejects.toMatchObject({ code: 'E_PLUGIN_UNDECLARED' });
  });

  it('times out a hung setup, naming the plugin', async () => {
    const app = createApp({
      logger: silentLogger,
      setupTimeoutMs: 20,
      plugins: [{ name: 'slow', setup: () => new Promise(() => {}) }],
    });
    await expect(app.start()).rejects.toMatchObject({ code: 'E_TIMEOUT', plugin: 'slow' });
  });

  it('runs onTeardown hooks in reverse, keeps tearing down past a failure, and reports it', async () => {
    const log: string[] = [];
    const app = createApp({
      logger: silentLogger,
      plugins: [
        { name: 'first', setup: () => () => void log.push('first') },
        {
          name: 'second',
          setup(ctx) {
            ctx.onTeardown(() => void log.push('hook 1'));
            ctx.onTeardown(() => {
              throw new Error('stuck');
            });
            ctx.onTeardown(() => void log.push('hook 3'));
            return () => void log.push('returned');
          },
        },
      ],
    });
    await app.start();
    const error = await app.stop().then(
      () => undefined,
      (e: unknown) => e as TelekitError,
    );
    expect(error?.code).toBe('E_PLUGIN_TEARDOWN');
    expect(log).toEqual(['hook 3', 'hook 1', 'returned', 'first']);
  });

  it('gives plugins the built-ins, an abort signal and stop$, and resolves tokens for the app', async () => {
    let signal: AbortSignal | undefined;
    let stopped = false;
    const t = inProcessTransport();
    const app = createApp({
      logger: silentLogger,
      plugins: [
        {
          name: 'transport',
          provides: [TransportToken],
          setup(ctx) {
            expect(ctx.resolve(ClockToken).now()).toBeGreaterThan(0);
            expect(ctx.resolve(LoggerToken)).toBeDefined();
            signal = ctx.signal;
            ctx.stop$.subscribe(() => (stopped = true));
            ctx.provide(TransportToken, t);
          },
        },
      ],
    });
    expect(() => app.transport).toThrow(/is the app started/);
    await app.start();
    expect(app.transport).toBe(t);
    expect(app.tryResolve(A)).toBeUndefined();
    expect(signal?.aborted).toBe(false);
    await app.stop();
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(true);
    await expect(app.start()).rejects.toMatchObject({ code: 'E_APP_STATE' });
  });

  it('health: worst of the plugins, with failures and hangs as down', async () => {
    let battery = 'ok' as 'ok' | 'degraded';
    const app = createApp({
      logger: silentLogger,
      healthTimeoutMs: 30,
      plugins: [
        { name: 'plain', setup: () => {} },
        { name: 'battery', setup: () => {}, health: () => ({ status: battery }) },
      ],
    });
    expect((await app.health()).status).toBe('down');
    await app.start();
    expect(await app.health()).toEqual({
      status: 'ok',
      state: 'running',
      plugins: { plain: { status: 'ok' }, battery: { status: 'ok' } },
    });
    battery = 'degraded';
    expect((await app.health()).status).toBe('degraded');
    await app.stop();

    const broken = createApp({
      logger: silentLogger,
      healthTimeoutMs: 30,
      plugins: [
        {
          name: 'throws',
          setup: () => {},
          health: () => {
            throw new Error('sensor gone');
          },
        },
        { name: 'hangs', setup: () => {}, health: () => new Promise(() => {}) },
      ],
    });
    await broken.start();
    const h = await broken.health();
    expect(h.status).toBe('down');
    expect(h.plugins.throws?.detail).toBe('health failed: sensor gone [plugin:throws]');
    expect(h.plugins.hangs?.detail).toBe('health timed out [plugin:hangs][ms:30]');
    await broken.stop();
  });
});
