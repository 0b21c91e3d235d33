import { Topics } from '@telekit/core';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtVerifier, signToken } from '../src/index.js';
import { SECRET, startGateway } from './helpers.js';

const twist = (seq: number, stamp: number) => ({
  header: { seq, stamp, sender: 'whoever' },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});

describe('a door for clients of other protocols', () => {
  let g: Awaited<ReturnType<typeof startGateway>> | undefined;
  afterEach(async () => {
    await g?.close();
    g = undefined;
  });

  it('authenticates with the verifier and refuses a missing or bad token', async () => {
    g = await startGateway({ auth: jwtVerifier({ secret: SECRET }) });
    await expect(g.gateway.door('127.0.0.1').enter(undefined, () => {})).rejects.toMatchObject({
      reason: 'missing',
    });
    await expect(g.gateway.door('127.0.0.1').enter('nonsense', () => {})).rejects.toMatchObject({
      code: 'E_AUTH',
    });
    const token = await signToken({ sub: 'vera', role: 'viewer' }, { secret: SECRET, expiresIn: '1h' });
    const peer = await g.gateway.door('127.0.0.1').enter(token, () => {});
    expect(peer.role).toBe('viewer');
    const refused = peer.publish(Topics.twist.name, twist(0, Date.now()));
    expect(refused).toMatchObject({ ok: false, error: { code: 'E_FORBIDDEN' } });
  });

  it('passes commands through the safety chain: the lease first, then they reach the app', async () => {
    g = await startGateway();
    const door = g.gateway.door('127.0.0.1');
    const peer = await door.enter('', () => {});
    expect(peer.publish(Topics.twist.name, twist(0, Date.now()))).toMatchObject({
      ok: false,
      error: { code: 'E_NOT_HOLDER' },
    });
    const got = firstValueFrom(g.app.subscribe(Topics.twist).pipe(take(1), toArray()));
    expect(await peer.lease('acquire')).toMatchObject({ granted: true });
    expect(peer.publish(Topics.twist.name, twist(1, Date.now()))).toEqual({ ok: true });
    const [cmd] = await got;
    expect(cmd?.header.sender).toBe(peer.id);
    expect(cmd?.linear.x).toBe(0.5);
  });

  it('ends a peer the gateway drops, and tells its endpoint', async () => {
    g = await startGateway();
    const door = g.gateway.door('127.0.0.1');
    let told = 0;
    const peer = await door.enter('', () => told++);
    expect(g.gateway.clients().map((c) => c.id)).toEqual([peer.id]);
    g.gateway.dropConnections(peer.id);
    expect(told).toBe(1);
    expect(peer.publish(Topics.twist.name, twist(0, Date.now()))).toMatchObject({
      error: { code: 'E_SESSION_CLOSED' },
    });
    door.close();
    door.close();
    expect(told).toBe(1);
  });
});
