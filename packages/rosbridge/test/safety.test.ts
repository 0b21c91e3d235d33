import { Topics, type Twist } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { Topic } from 'roslib';
import { filter, firstValueFrom, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { frames, startEndpoint, token } from './helpers.js';

const cmd = (x: number) => ({ linear: { x, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
const publish = (x: number, id = `publish:${x}`) =>
  JSON.stringify({ op: 'publish', id, topic: '/cmd_vel', msg: cmd(x) });

describe('auth and safety through the rosbridge endpoint', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('without a token every op is refused with a status saying how to authenticate', async () => {
    env = await startEndpoint();
    const ws = await env.raw();
    const f = frames(ws);
    ws.send(publish(0.3, 'p1'));
    const status = await f.next((m) => m.op === 'status' && m.id === 'p1');
    expect(status).toMatchObject({ level: 'error', code: 'E_AUTH' });
    expect(status.msg).toMatch(/authenticate first: a token in the URL \(\?token=\) or the auth op/);
  });

  it('a bad token in the URL is refused with a status naming why, and the socket closed', async () => {
    env = await startEndpoint();
    const ws = await env.raw('?token=not-a-jwt');
    const f = frames(ws);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const status = await f.next((m) => m.op === 'status');
    expect(status).toMatchObject({ level: 'error', code: 'E_AUTH' });
    expect(status.msg).toMatch(/authentication refused \(invalid\)/);
    expect(await closed).toBe(1008);
  });

  it("the auth op's mac carries the token", async () => {
    env = await startEndpoint();
    const ws = await env.raw();
    const got = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
    const mac = await token('olga', 'operator');
    ws.send(
      JSON.stringify({
        op: 'auth',
        mac,
        client: '127.0.0.1',
        dest: 'x',
        rand: 'r',
        t: 0,
        level: 'user',
        end: 0,
      }),
    );
    ws.send(publish(0.25));
    expect((await got).linear.x).toBe(0.25);
  });

  it("a viewer's /cmd_vel is refused with E_FORBIDDEN and never actuates", async () => {
    env = await startEndpoint();
    const viewer = await env.raw(`?token=${await token('vera', 'viewer')}`);
    const vf = frames(viewer);
    const twists: Twist[] = [];
    env.app.subscribe(Topics.twist).subscribe((t) => twists.push(t));
    viewer.send(publish(0.9, 'v1'));
    const status = await vf.next((m) => m.op === 'status' && m.id === 'v1');
    expect(status).toMatchObject({ code: 'E_FORBIDDEN', topic: '/controller/twist' });
    expect(status.msg).toBe('publish: role viewer may not publish /controller/twist');
    // An operator's command after it is the first the robot sees.
    const operator = await env.raw(`?token=${await token('olga', 'operator')}`);
    const first = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
    operator.send(publish(0.2));
    expect((await first).linear.x).toBe(0.2);
    expect(twists.map((t) => t.linear.x)).toEqual([0.2]);
  });

  it('a second operator is refused while the first holds the lease, the holder named', async () => {
    env = await startEndpoint();
    const a = await env.raw(`?token=${await token('alice', 'operator')}`);
    const first = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
    a.send(publish(0.1));
    await first;
    const b = await env.raw(`?token=${await token('bob', 'operator')}`);
    const bf = frames(b);
    b.send(publish(0.7, 'b1'));
    const status = await bf.next((m) => m.op === 'status' && m.id === 'b1');
    expect(status).toMatchObject({ code: 'E_NOT_HOLDER' });
    expect(status.msg).toBe('publish: command refused: alice holds control');
  });

  it('a client that loses its socket while driving stops the robot (a zero twist from the gateway)', async () => {
    env = await startEndpoint({ deadmanMs: 250 });
    const ros = await env.ros(`?token=${await token('olga', 'operator')}`);
    const moving = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x > 0)));
    new Topic({ ros, name: '/cmd_vel', messageType: 'geometry_msgs/Twist' }).publish(cmd(0.5));
    await moving;
    const stopped = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0)));
    // The socket is cut, not closed: no closing handshake, as when a laptop's Wi-Fi drops.
    (ros as unknown as { transport: { socket: { terminate(): void } } }).transport.socket.terminate();
    const stop = await stopped;
    expect(stop.header.sender).toBe('gateway');
    expect(stop.angular.z).toBe(0);
  });

  it('a client whose link died silently (no pongs) is cut off, and another operator may take the lease', async () => {
    env = await startEndpoint({ deadmanMs: 60_000 }, { keepAliveMs: 50 });
    // A socket that never answers pings, as one behind a dead link.
    const ghost = new WebSocket(`${env.base}?token=${await token('gone', 'operator')}`, { autoPong: false });
    await new Promise((resolve) => ghost.once('open', resolve));
    const moving = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x > 0)));
    ghost.send(publish(0.5));
    await moving;
    const stopped = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0)));
    const cut = new Promise<void>((resolve) => ghost.once('close', () => resolve()));
    // The deadman is a minute here: what stops the robot is the cut.
    expect((await stopped).header.sender).toBe('gateway');
    await cut;
    const next = await env.raw(`?token=${await token('olga', 'operator')}`);
    const driven = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0.2)));
    next.send(publish(0.2));
    await driven;
  });

  it('the deadman stops the robot when a connected client goes quiet', async () => {
    env = await startEndpoint({ deadmanMs: 100 });
    const ws = await env.raw(`?token=${await token('olga', 'operator')}`);
    const stopped = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0)));
    ws.send(publish(0.5));
    const stop = await stopped;
    expect(stop.header.sender).toBe('gateway');
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('an e-stop latched from a Telekit page blocks rosbridge commands', async () => {
    env = await startEndpoint();
    const page = gatewayClient({ url: env.gateway.url, token: await token('pat', 'operator') });
    await page.connect();
    try {
      const latched = firstValueFrom(page.estop$.pipe(filter((s) => s.latched)));
      page.publish(Topics.estop, {
        header: { seq: 0, stamp: Date.now(), sender: 'page' },
        engage: true,
        reason: 'drill',
      });
      await latched;
      const ws = await env.raw(`?token=${await token('olga', 'operator')}`);
      const f = frames(ws);
      const twists: Twist[] = [];
      env.app.subscribe(Topics.twist).subscribe((t) => twists.push(t));
      ws.send(publish(0.5, 'e1'));
      const status = await f.next((m) => m.op === 'status' && m.id === 'e1');
      expect(status).toMatchObject({ code: 'E_ESTOP' });
      expect(status.msg).toBe('publish: command refused: the e-stop is engaged');
      expect(twists.filter((t) => t.linear.x !== 0)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
