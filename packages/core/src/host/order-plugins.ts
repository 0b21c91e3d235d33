import { TelekitError } from '../errors.js';
import type { Plugin } from './plugin.js';
import { type Token, tokenName } from './token.js';

/**
 * Orders plugins so that every provider comes before the plugins that require (or optionally use)
 * what it provides, keeping the given order where dependencies allow.
 *
 * Throws `E_PLUGIN_DUPLICATE` for two plugins of one name or two providers of one token,
 * `E_PLUGIN_MISSING_DEPENDENCY` naming the plugin and the token nobody provides, and
 * `E_PLUGIN_CYCLE` with the cycle's path.
 */
export function orderPlugins(
  plugins: readonly Plugin[],
  builtIn: ReadonlySet<Token<unknown>> = new Set(),
): Plugin[] {
  const byName = new Map<string, Plugin>();
  const providers = new Map<Token<unknown>, Plugin>();
  for (const p of plugins) {
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof p.name !== 'string' ||
      p.name === '' ||
      typeof p.setup !== 'function'
    ) {
      throw new TelekitError(
        'E_PLUGIN_INVALID',
        'a plugin must be an object with a name and a setup function',
        {
          operation: 'createApp',
          context: {
            plugin: typeof p === 'object' && p !== null ? String((p as { name?: unknown }).name) : String(p),
          },
        },
      );
    }
    if (byName.has(p.name)) {
      throw new TelekitError('E_PLUGIN_DUPLICATE', 'two plugins have the same name', {
        operation: 'createApp',
        context: { plugin: p.name },
      });
    }
    byName.set(p.name, p);
    for (const t of p.provides ?? []) {
      const other = providers.get(t);
      if (other) {
        throw new TelekitError('E_PLUGIN_DUPLICATE', 'two plugins provide the same token', {
          operation: 'createApp',
          context: { token: tokenName(t), first: other.name, second: p.name },
        });
      }
      providers.set(t, p);
    }
  }

  const dependencies = (p: Plugin): Plugin[] => {
    const deps: Plugin[] = [];
    for (const t of p.requires ?? []) {
      const provider = providers.get(t);
      if (provider) deps.push(provider);
      else if (!builtIn.has(t)) {
        throw new TelekitError(
          'E_PLUGIN_MISSING_DEPENDENCY',
          'plugin requires a token that no plugin provides',
          {
            plugin: p.name,
            operation: 'createApp',
            context: { plugin: p.name, token: tokenName(t) },
          },
        );
      }
    }
    for (const t of p.optional ?? []) {
      const provider = providers.get(t);
      if (provider) deps.push(provider);
    }
    return deps.filter((d) => d !== p);
  };

  const ordered: Plugin[] = [];
  const state = new Map<Plugin, 'visiting' | 'done'>();
  const path: Plugin[] = [];
  const visit = (p: Plugin): void => {
    const s = state.get(p);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(p)), p].map((x) => x.name).join(' → ');
      throw new TelekitError('E_PLUGIN_CYCLE', `plugins depend on each other in a cycle: ${cycle}`, {
        operation: 'createApp',
      });
    }
    state.set(p, 'visiting');
    path.push(p);
    for (const d of dependencies(p)) visit(d);
    path.pop();
    state.set(p, 'done');
    ordered.push(p);
  };
  for (const p of plugins) visit(p);
  return ordered;
}
