import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createApp } from '../host/create-app.js';

describe('haltOnCrash', () => {
  it('halts every started plugin in reverse order, even when one throws', async () => {
    const halted: string[] = [];
    const app = createApp({
      plugins: [
        { name: 'a', setup() {}, halt: () => void halted.push('a') },
        {
          name: 'b',
          setup() {},
          halt: () => {
            halted.push('b');
            throw new Error('b could not stop');
          },
        },
        { name: 'c', setup() {} },
      ],
    });
    await app.start();
    app.halt();
    expect(halted).toEqual(['b', 'a']);
    await app.stop();
  });

  // A real process: an uncaught exception halts the app's plugins, then the process exits 1.
  it('on an uncaught exception, halts the app and exits', async () => {
    const host = new URL('../host/create-app.ts', import.meta.url).href;
    const crash = new URL('./halt-on-crash.ts', import.meta.url).href;
    const script = `
      const { createApp } = await import(${JSON.stringify(host)});
      const { haltOnCrash } = await import(${JSON.stringify(crash)});
      const app = createApp({ plugins: [{ name: 'robot', setup() {}, halt: () => process.stdout.write('robot stopped\\n') }] });
      haltOnCrash(app);
      await app.start();
      setTimeout(() => { throw new Error('boom'); }, 10);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toContain('robot stopped');
    expect(err).toContain('uncaught exception: halting the app');
    expect(err).toContain('boom');
    expect(code).toBe(1);
  });
});
