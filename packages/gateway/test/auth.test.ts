import { isTelekitError, Topics } from '@telekit/core';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WireError } from '../src/client/index.js';
import { allowed, jwtVerifier, signToken } from '../src/index.js';
import { SECRET, startGateway } from './helpers.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function rig() {
  const g = await startGateway({ auth: jwtVerifier({ secret: SECRET }) });
  cleanup.push(() => g.close());
  return g;
}

const refusal = async (g: Awaited<ReturnType<typeof rig>>, token: string | undefined) => {
  const c = g.client({ ...(token === undefined ? {} : { token }), connectTimeoutMs: 3_000 });
  const error = await c.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTelekitError(error)).toBe(true);
  return error as Error & { code: string; context: Record<string, unknown> };
};

describe('authentication in the handshake', () => {
  it('refuses a connection without a token, saying so', async () => {
    const e = await refusal(await rig(), undefined);
    expect(e.code).toBe('E_AUTH');
    expect(e.message).toBe(
      'gateway refused the connection: no token in the handshake auth payload [reason:missing]',
    );
  });

  it('refuses a token signed with another key', async () => {
    const forged = await signToken(
      { sub: 'mallory', role: 'admin' },
      { secret: 'another-secret-that-is-also-32-bytes-long' },
    );
    const e = await refusal(await rig(), forged);
    expect(e.message).toMatch(/invalid token: signature verification failed \[reason:invalid\]/);
  });

  it('refuses an expired token', async () => {
    const old = await new SignJWT({ role: 'operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    expect((await refusal(await rig(), old)).message).toContain('token expired [reason:expired]');
  });

  it('refuses a token without a valid role, and garbage', async () => {
    const g = await rig();
    const noRole = await new SignJWT({ role: 'superuser' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect((await refusal(g, noRole)).message).toContain('role must be viewer, operator or admin');
    expect((await refusal(g, 'not.a.jwt')).message).toContain('[reason:invalid]');
  });

  it('sends nothing before authentication', async () => {
    const g = await rig();
    const received: string[] = [];
    const socket = io(`${g.url}/control`, {
      transports: ['websocket'],
      parser: msgpackParser,
      forceNew: true,
      auth: { token: 'bad' },
      reconnection: false,
    });
    socket.onAny((event) => received.push(event));
    const err = await new Promise<Error & { data?: { code: string; reason: string } }>((resolve) =>
      socket.on('connect_error', resolve),
    );
    socket.close();
    expect(err.data).toEqual({ code: 'E_AUTH', reason: 'invalid' });
    expect(received).toEqual([]);
  });

  it('a valid token connects with its role; allow-lists limit what it may subscribe to', async () => {
    const g = await rig();
    const viewer = g.client({ token: await signToken({ sub: 'eve', role: 'viewer' }, { secret: SECRET }) });
    const faults: WireError[] = [];
    viewer.faults$.subscribe((f) => faults.push(f));
    await viewer.connect();
    expect(viewer.role).toBe('viewer');
    expect(viewer.clientId).toMatch(/^viewer-/);
    expect(viewer.displayName).toBe('eve');
    viewer.subscribe(Topics.twist).subscribe();
    viewer.subscribe(Topics.pose).subscribe();
    await vi.waitFor(() =>
      expect(faults).toEqual([
        {
          code: 'E_FORBIDDEN',
          message: 'role viewer may not subscribe /controller/twist',
          topic: '/controller/twist',
        },
      ]),
    );
  });

  it('a token callback is asked again on every reconnect', async () => {
    const g = await rig();
    let asked = 0;
    const c = g.client({
      token: () => {
        asked++;
        return signToken({ sub: 'alice', role: 'operator' }, { secret: SECRET });
      },
    });
    await c.connect();
    expect(asked).toBe(2); // one per lane
    g.gateway.dropConnections();
    await vi.waitFor(() => expect(asked).toBe(4));
  });

  it('allow-list patterns: exact names and prefixes', () => {
    expect(allowed(['/telemetry/*'], '/telemetry/pose')).toBe(true);
    expect(allowed(['/telemetry/*'], '/controller/twist')).toBe(false);
    expect(allowed(['/controller/twist'], '/controller/twist')).toBe(true);
    expect(allowed(['*'], '/anything')).toBe(true);
    expect(() => jwtVerifier({ secret: 'short' })).toThrow(/at least 32 bytes/);
  });
});
