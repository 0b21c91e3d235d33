import { type App, createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { GatewayToken, gateway } from '@telekit/gateway';
import { gatewayClient } from '@telekit/gateway/client';
import { SimTopics } from '@telekit/sim-browser';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_SIMULATION_PLUGIN, simulatedRobot } from '../src/index.js';

// The preset against the real parts: the MuJoCo sidecar, a gateway; no camera (no encoder here).
describe('simulatedRobot', () => {
  let app: App;
  let url: string;
  beforeAll(async () => {
    app = createApp({
      logger: silentLogger,
      plugins: [inProcess(), ...simulatedRobot({ camera: false }), gateway({ auth: 'none', port: 0 })],
    });
    await app.start();
    url = app.resolve(GatewayToken).url;
  }, 120_000);
  afterAll(() => app?.stop());

  it('composes the simulator, its authority and the page simulation, after the gateway it mounts on', () => {
    expect(app.plugins).toEqual([
      '@telekit/core/in-process',
      '@telekit/sim-genesis',
      '@telekit/sim-browser/authority',
      '@telekit/gateway',
      PAGE_SIMULATION_PLUGIN,
    ]);
  });

  it('serves what a page simulates with under /sim', async () => {
    const config = await fetch(`${url}/sim/config.json`);
    expect(config.status).toBe(200);
    expect(await config.json()).toMatchObject({ scene: 'diff-drive', mode: 'auto' });
    expect((await fetch(`${url}/sim/nothing-here`)).status).toBe(404);
  });

  it('lets clients follow the simulation topics and drive the robot', async () => {
    const client = gatewayClient({ url, topics: Object.values(SimTopics) });
    try {
      await client.connect();
      const snapshot = await firstValueFrom(client.subscribe(SimTopics.snapshot));
      expect(snapshot.scene).toBe('diff-drive');
      const pose = await firstValueFrom(client.subscribe(Topics.pose));
      expect(pose.position).toMatchObject({ x: expect.any(Number), y: expect.any(Number) });
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('simulatedRobot with a camera', () => {
  it('serves the camera over WebRTC and, through the gateway, HLS', () => {
    // Only composed here (starting it needs ffmpeg and mediasoup's worker: media-nvenc's suites).
    expect(simulatedRobot().map((p) => p.name)).toEqual([
      '@telekit/sim-genesis',
      '@telekit/sim-browser/authority',
      '@telekit/media-nvenc',
      '@telekit/media-nvenc/hls',
      PAGE_SIMULATION_PLUGIN,
    ]);
  });
});
