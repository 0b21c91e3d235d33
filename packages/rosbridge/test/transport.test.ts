import { Topics } from '@telekit/core';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRosbridgeTransport } from '../src/index.js';
import { startEndpoint, token } from './helpers.js';

const pose = (x: number) => ({
  header: { seq: Math.round(x * 100), stamp: Date.now(), sender: 'robot' },
  frame: 'odom',
  position: { x, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
  linear: { x: 0, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});

describe('the rosbridge transport against the endpoint, with the ROS-typed default mapping', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await env?.close();
    env = undefined;
  });

  it('drives /cmd_vel and reads /odom; after the server drops it, reconnects and resubscribes', async () => {
    env = await startEndpoint();
    const t = createRosbridgeTransport({
      url: `${env.base}?token=${await token('olga', 'operator')}`,
      reconnect: { delayMs: 20, maxDelayMs: 200 },
    });
    closers.push(() => t.close());
    await t.connect();
    const poses = t.subscribe(Topics.pose);
    const xs: number[] = [];
    poses.subscribe((p) => xs.push(p.position.x));
    let x = 1;
    const publishing = setInterval(() => env?.app.publish(Topics.pose, pose(x)), 20);
    closers.push(async () => clearInterval(publishing));
    await firstValueFrom(poses.pipe(filter((p) => p.position.x === 1)));

    const twist = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((m) => m.linear.x === 0.3)));
    t.publish(Topics.twist, {
      header: { seq: 0, stamp: Date.now(), sender: 'app' },
      linear: { x: 0.3, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    expect((await twist).header.sender).toMatch(/^operator-/);

    // The gateway ends the session; the transport comes back by itself and subscribes again.
    const states: string[] = [];
    t.state$.subscribe((s) => states.push(s.status));
    env.gateway.dropConnections();
    x = 2;
    await firstValueFrom(poses.pipe(filter((p) => p.position.x === 2)));
    expect(states).toContain('reconnecting');
    expect(t.state.status).toBe('connected');
  });

  it('a bad token gives up at once with E_AUTH', async () => {
    env = await startEndpoint();
    const t = createRosbridgeTransport({ url: `${env.base}?token=nonsense`, reconnect: { delayMs: 20 } });
    closers.push(() => t.close());
    await expect(t.connect()).rejects.toThrow(/authentication refused/);
    expect(t.state.status).toBe('disconnected');
  });
});
