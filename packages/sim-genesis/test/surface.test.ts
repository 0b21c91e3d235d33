import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { isTelekitError, silentLogger } from '@telekit/core';
import { pack as encode } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { findPython, sidecarSimulator } from '../src/index.js';
import { alive, type HandSidecar, startSidecar, until } from './helpers.js';

// What other users of the host, and anyone who reaches the sidecar's socket, can do to it.

const open: HandSidecar[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => {
      expect(isTelekitError(e)).toBe(true);
      return e as Error & { code: string };
    },
  );

/** A raw connection to `unix:/path` or `host:port` that records whether the sidecar closed it. */
async function raw(address: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = address.startsWith('unix:')
    ? createConnection({ path: address.slice(5) })
    : createConnection({
        host: address.slice(0, address.lastIndexOf(':')),
        port: Number(address.slice(address.lastIndexOf(':') + 1)),
      });
  await new Promise((r, j) => socket.once('connect', r).once('error', j));
  socket.resume(); // read (and drop) what it answers, so that its end is seen
  return { socket, closed: new Promise((r) => socket.once('close', () => r())) };
}

const frame = (message: unknown) => {
  const body = encode(message);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.byteLength);
  return Buffer.concat([header, body]);
};

describe('the sidecar a simulator starts', () => {
  it('listens on a Unix socket only its user can open, in a private directory removed on close; the token is on no command line', async () => {
    const sim = sidecarSimulator({ logger: silentLogger });
    await sim.loadScene({ id: 'diff-drive' });
    const args = sim.process!.spawnargs;
    const listen = args[args.indexOf('--listen') + 1]!;
    expect(listen).toMatch(/^unix:\//);
    const path = listen.slice(5);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    // The token goes through stdin: nothing 64-hex-long on the sidecar's command line, which any user can read.
    const cmdline = readFileSync(`/proc/${sim.process!.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.some((a) => /[0-9a-f]{32,}/.test(a))).toBe(false);
    // health() (shown by /readyz) names neither the socket nor anything like a token.
    const health = JSON.stringify(sim.health());
    expect(health).not.toContain(path);
    expect(health).not.toContain('unix:');
    expect(health).not.toMatch(/[0-9a-f]{32,}/);
    expect(sim.health().data.transport).toBe('unix');
    // Without the token the socket is no use even to this user.
    const { socket, closed } = await raw(listen);
    socket.write(frame({ id: 1, op: 'act', action: { kind: 'twist', linear: { x: 1 }, angular: {} } }));
    await closed;
    await sim.close();
    expect(() => statSync(dirname(path))).toThrow();
  }, 30_000);
});

describe('a sidecar with a token', () => {
  const token = randomBytes(32).toString('hex');

  it('answers nothing but hello before the token: anything else is refused and the connection closed', async () => {
    const side = await startSidecar({ args: ['--supervised'], stdinLine: token });
    open.push(side);
    const c = await side.connect();
    const e = await refusal(c.request('load_scene', { scene: { id: 'diff-drive' } }));
    expect(e.code).toBe('E_UNAUTHORIZED');
    await c.closed;
    const wrong = await side.connect();
    expect((await refusal(wrong.request('hello', { token: 'guess' }))).code).toBe('E_UNAUTHORIZED');
    await wrong.closed;
    // With it, everything works.
    const good = await side.connect(token);
    await good.request('load_scene', { scene: { id: 'diff-drive' } });
    expect(await good.request('stats')).toMatchObject({ ok: true, deadmanTrips: 0 });
    good.close();
  }, 30_000);

  it('a frame larger than 64 KiB before hello closes the connection; garbage closes only that connection', async () => {
    const side = await startSidecar({ args: ['--supervised'], stdinLine: token });
    open.push(side);
    const big = await raw(side.address);
    big.socket.write(Buffer.from([0, 2, 0, 0])); // announces 128 KiB
    await big.closed;
    const good = await side.connect(token);
    const garbage = await raw(side.address);
    garbage.socket.write(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    await garbage.closed;
    expect(await good.request('ping')).toMatchObject({ ok: true });
    good.close();
  }, 30_000);

  it('a connection that never says hello is closed after 5 s', async () => {
    const side = await startSidecar({ args: ['--supervised'], stdinLine: token });
    open.push(side);
    const idle = await raw(side.address);
    const t0 = performance.now();
    await idle.closed;
    expect(performance.now() - t0).toBeGreaterThan(4_000);
  }, 30_000);

  it('TCP: refuses to start without a token; with $TELEKIT_SIM_TOKEN, wants it in hello', async () => {
    const refused = spawn(findPython(), ['-m', 'telekit_sim', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TELEKIT_SIM_TOKEN: '' },
    });
    let said = '';
    refused.stderr.on('data', (d: Buffer) => {
      said += d.toString();
    });
    const code = await new Promise((r) => refused.once('exit', r));
    expect(code).not.toBe(0);
    expect(said).toContain('listening on TCP needs a token');

    const side = await startSidecar({ listen: '127.0.0.1:0', env: { TELEKIT_SIM_TOKEN: token } });
    open.push(side);
    expect(side.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const anon = await side.connect();
    expect((await refusal(anon.request('ping'))).code).toBe('E_UNAUTHORIZED');
    const c = await side.connect(token);
    expect(await c.request('ping')).toMatchObject({ ok: true });
    c.close();
  }, 30_000);

  it('connect: a simulator reaches a TCP sidecar with the token', async () => {
    const side = await startSidecar({ listen: '127.0.0.1:0', env: { TELEKIT_SIM_TOKEN: token } });
    open.push(side);
    const sim = sidecarSimulator({ connect: side.address, token, logger: silentLogger });
    try {
      const info = await sim.loadScene({ id: 'diff-drive' });
      expect(info.hasBase).toBe(true);
      expect(sim.health().data.transport).toBe('tcp');
      expect(sim.health().detail).not.toContain(side.address);
    } finally {
      await sim.close();
    }
    // The simulator did not own it: it is still there.
    expect(alive(side.proc.pid!)).toBe(true);
    const without = sidecarSimulator({ connect: side.address, token: 'wrong', logger: silentLogger });
    const e = await refusal(without.loadScene({ id: 'diff-drive' }));
    expect(e.code).toBe('E_UNAUTHORIZED');
    await without.close();
    expect(await until(() => alive(side.proc.pid!), 100)).toBe(true);
  }, 30_000);
});
