import { afterEach, describe, expect, it } from 'vitest';
import { jwtVerifier, type Principal, type RouteHandler, signToken } from '../src/index.js';
import { SECRET, startGateway } from './helpers.js';

// Plugins' routes behind the gateway's own auth (`gateway.route(prefix, handler, access)`): the
// token from a bearer header or `?token=`, the role's allow-list, answered by the gateway before the
// handler runs. A real gateway on loopback, real JWTs.

const token = (sub: string, role: Principal['role']) => signToken({ sub, role }, { secret: SECRET });

/** A handler that answers `ok` and remembers who it was called for. */
function recording() {
  const calls: (Principal | undefined)[] = [];
  const handler: RouteHandler = (_req, res, principal) => {
    calls.push(principal);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return true;
  };
  return { calls, handler };
}

describe('routes with an access rule', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('401 without a valid token, 403 for a role without the right, 200 with it', async () => {
    const g = await startGateway({ auth: jwtVerifier({ secret: SECRET }) });
    close = g.close;
    const { calls, handler } = recording();
    g.gateway.route('/drive/', handler, { publish: '/controller/twist' });

    const none = await fetch(`${g.url}/drive/x`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.text()).toMatch(/no token/);
    const garbage = await fetch(`${g.url}/drive/x`, { headers: { authorization: 'Bearer garbage' } });
    expect(garbage.status).toBe(401);
    expect(await garbage.text()).toMatch(/invalid token/);

    const viewer = await fetch(`${g.url}/drive/x`, {
      headers: { authorization: `Bearer ${await token('vera', 'viewer')}` },
    });
    expect(viewer.status).toBe(403);
    expect(await viewer.text()).toBe('role viewer may not publish /controller/twist\n');
    expect(calls).toEqual([]);

    const operator = await fetch(`${g.url}/drive/x`, {
      headers: { authorization: `Bearer ${await token('olga', 'operator')}` },
    });
    expect(operator.status).toBe(200);
    expect(await operator.text()).toBe('ok\n');
    expect(calls).toEqual([{ id: 'olga', role: 'operator' }]);

    const refused = (await g.gateway.metrics.refusals.get()).values;
    expect(refused.find((v) => v.labels.reason === 'auth')?.value).toBe(2);
    expect(refused.find((v) => v.labels.reason === 'acl')?.value).toBe(1);
  });

  it('takes the token from ?token= too, and checks the access list as it is at each request', async () => {
    const g = await startGateway({ auth: jwtVerifier({ secret: SECRET }) });
    close = g.close;
    const { calls, handler } = recording();
    g.gateway.route('/watch/', handler, { subscribe: '/media/hls' });
    g.gateway.route('/drive/', handler, { publish: '/controller/twist' });
    const viewer = await token('vera', 'viewer');

    expect((await fetch(`${g.url}/watch/cam/index.m3u8?token=${viewer}`)).status).toBe(200);
    expect(calls).toEqual([{ id: 'vera', role: 'viewer' }]);

    expect((await fetch(`${g.url}/drive/x?token=${viewer}`)).status).toBe(403);
    const revoke = g.gateway.grant(['viewer'], { publish: ['/controller/twist'] });
    expect((await fetch(`${g.url}/drive/x?token=${viewer}`)).status).toBe(200);
    revoke();
    expect((await fetch(`${g.url}/drive/x?token=${viewer}`)).status).toBe(403);
  });

  it('{} lets in anyone the verifier accepts; a handler that declines passes the request on', async () => {
    const g = await startGateway({ auth: jwtVerifier({ secret: SECRET }) });
    close = g.close;
    const declined: (Principal | undefined)[] = [];
    g.gateway.route('/any/', (_req, _res, principal) => {
      declined.push(principal);
      return false;
    });
    const { calls, handler } = recording();
    const remove = g.gateway.route('/any/', handler, {});

    expect((await fetch(`${g.url}/any/x`)).status).toBe(401);
    const viewer = await fetch(`${g.url}/any/x`, {
      headers: { authorization: `Bearer ${await token('vera', 'viewer')}` },
    });
    expect(viewer.status).toBe(200);
    // The route without a rule ran first, open and without a principal, and declined.
    expect(declined).toEqual([undefined, undefined]);
    expect(calls).toEqual([{ id: 'vera', role: 'viewer' }]);

    remove();
    expect((await fetch(`${g.url}/any/x`)).status).toBe(404);
  });

  it("with auth: 'none' the route is open: every request is the anonymous operator", async () => {
    const g = await startGateway({ auth: 'none' });
    close = g.close;
    const { calls, handler } = recording();
    g.gateway.route('/watch/', handler, { subscribe: '/media/hls' });

    expect((await fetch(`${g.url}/watch/cam/index.m3u8`)).status).toBe(200);
    expect(calls).toEqual([{ id: 'anonymous', role: 'operator' }]);
  });
});
