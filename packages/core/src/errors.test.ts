import { describe, expect, it } from 'vitest';
import { attributeError, isTelekitError, TelekitError } from './errors.js';

describe('TelekitError', () => {
  it('carries code, plugin, operation, cause and context in a lower-case message', () => {
    const cause = new Error('socket hang up');
    const e = new TelekitError('E_TIMEOUT', 'scene did not load', {
      plugin: '@telekit/sim-genesis',
      operation: 'loadScene',
      cause,
      context: { scene: 'diff-drive', ms: 5000, skipped: undefined },
    });
    expect(e.message).toBe('scene did not load [scene:diff-drive][ms:5000]');
    expect(e.code).toBe('E_TIMEOUT');
    expect(e.plugin).toBe('@telekit/sim-genesis');
    expect(e.operation).toBe('loadScene');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toMatchObject({ code: 'E_TIMEOUT', cause: 'socket hang up' });
  });

  it('is recognised by its brand, also from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@telekit/core/TelekitError')]: true });
    expect(isTelekitError(foreign)).toBe(true);
    expect(isTelekitError(new Error('x'))).toBe(false);
    expect(isTelekitError(null)).toBe(false);
    expect(isTelekitError('E_TIMEOUT')).toBe(false);
  });

  it('attributes errors to a plugin: stamps ours, wraps others', () => {
    const ours = new TelekitError('E_X', 'bad');
    expect(attributeError(ours, 'p', 'setup')).toBe(ours);
    expect(ours.plugin).toBe('p');
    const already = new TelekitError('E_X', 'bad', { plugin: 'first' });
    expect(attributeError(already, 'second', 'setup').plugin).toBe('first');
    const wrapped = attributeError(new TypeError('nope'), 'p', 'setup');
    expect(wrapped.code).toBe('E_PLUGIN_SETUP');
    expect(wrapped.plugin).toBe('p');
    expect(wrapped.message).toBe('setup failed: nope [plugin:p]');
    expect(attributeError('a string', 'p', 'health', 'E_PLUGIN_HEALTH').message).toContain('a string');
  });
});
