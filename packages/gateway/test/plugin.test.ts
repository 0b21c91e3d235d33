import { createApp, inProcess, type Plugin, silentLogger, Topics, TransportToken } from '@telekit/core';
import { describe, expect, it, vi } from 'vitest';
import { gatewayClient } from '../src/client/index.js';
import { type Gateway, gateway } from '../src/index.js';

describe('gateway as a plugin', () => {
  it('bridges browsers to the app transport and reports the app health on /readyz', async () => {
    let running: Gateway | undefined;
    let sensor: 'ok' | 'down' = 'ok';
    const received: number[] = [];
    const robot: Plugin = {
      name: 'robot',
      requires: [TransportToken],
      setup(ctx) {
        const sub = ctx
          .resolve(TransportToken)
          .subscribe(Topics.twist)
          .subscribe((t) => received.push(t.linear.x));
        return () => sub.unsubscribe();
      },
      health: () => ({ status: sensor }),
    };
    const app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), gateway({ auth: 'none', port: 0, onListen: (g) => (running = g) }), robot],
    });
    expect(app.plugins).toEqual(['@telekit/core/in-process', '@telekit/gateway', 'robot']);
    await app.start();
    const url = running!.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    sensor = 'down';
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(
      ((await notReady.json()) as { plugins: Record<string, { status: string }> }).plugins.robot?.status,
    ).toBe('down');

    const client = gatewayClient({ url });
    await client.connect();
    await client.requestControl();
    client.publish(Topics.twist, {
      header: { seq: 1, stamp: performance.timeOrigin + performance.now(), sender: 'me' },
      linear: { x: 0.7, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    await vi.waitFor(() => expect(received).toContain(0.7));
    expect((await app.health()).plugins['@telekit/gateway']).toMatchObject({
      status: 'ok',
      data: { clients: 1 },
    });
    await client.close();
    await app.stop();
  });
});
