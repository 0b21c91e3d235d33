import { createApp, inProcess, silentLogger, Topics } from '@telekit/core';
import { type Gateway, gateway } from '@telekit/gateway';
import { gatewayClient } from '@telekit/gateway/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nvencMedia } from '../src/index.js';

let app: ReturnType<typeof createApp>;
let running: Gateway;

beforeAll(async () => {
  app = createApp({
    logger: silentLogger,
    plugins: [
      inProcess(),
      gateway({ auth: 'none', port: 0, onListen: (g) => (running = g) }),
      nvencMedia({
        streams: [
          { id: 'cam', profile: { width: 320, height: 240, fps: 30, bitrateKbps: 500, gopSeconds: 1 } },
        ],
      }),
    ],
  });
  await app.start();
}, 60_000);
afterAll(() => app.stop());

describe('media signalling through the gateway', () => {
  it('the media plugin is set up before the gateway that uses it', () => {
    expect(app.plugins).toEqual(['@telekit/core/in-process', '@telekit/media-nvenc', '@telekit/gateway']);
  });

  it('lists streams, joins, makes a transport and a consumer; another viewer cannot use it; leaving releases it', async () => {
    const alice = gatewayClient({ url: running.url });
    const bob = gatewayClient({ url: running.url });
    await Promise.all([alice.connect(), bob.connect()]);
    expect(await alice.request(Topics.mediaStreams, {})).toEqual({
      streams: [
        {
          id: 'cam',
          label: 'cam',
          codec: 'h264',
          width: 320,
          height: 240,
          fps: 30,
          hls: '/media/hls/cam/index.m3u8',
        },
      ],
    });
    const { rtpCapabilities } = await alice.request<{ rtpCapabilities: { codecs: { mimeType: string }[] } }>(
      '/media/join',
      { stream: 'cam' },
    );
    expect(rtpCapabilities.codecs.map((c) => c.mimeType)).toContain('video/H264');
    const t = await alice.request<{ id: string; iceCandidates: unknown[] }>('/media/transport', {});
    expect(t.iceCandidates.length).toBeGreaterThan(0);
    const consumer = await alice.request<{
      id: string;
      kind: string;
      rtpParameters: { codecs: { mimeType: string }[] };
    }>('/media/consume', {
      transport: t.id,
      stream: 'cam',
      rtpCapabilities,
    });
    expect(consumer.kind).toBe('video');
    expect(consumer.rtpParameters.codecs[0]?.mimeType).toBe('video/H264');
    await expect(
      bob.request('/media/consume', { transport: t.id, stream: 'cam', rtpCapabilities }),
    ).rejects.toThrow('that transport belongs to another viewer');
    expect((await app.health()).plugins['@telekit/media-nvenc']).toMatchObject({
      status: 'ok',
      data: { cam: { viewers: 1 } },
    });
    await alice.close();
    await vi.waitFor(async () =>
      expect((await app.health()).plugins['@telekit/media-nvenc']).toMatchObject({
        data: { cam: { viewers: 0 } },
      }),
    );
    await bob.close();
  });

  it('bad requests get errors naming the problem', async () => {
    const c = gatewayClient({ url: running.url });
    await c.connect();
    await expect(c.request('/media/join', { stream: 'nope' })).rejects.toThrow(
      'unknown stream [stream:nope]',
    );
    await expect(c.request('/media/join', { stream: 42 })).rejects.toThrow(
      'invalid message: stream: expected string, received number [topic:/media/join]',
    );
    await expect(c.request('/media/connect', { transport: 'x' })).rejects.toThrow('dtlsParameters');
    await expect(c.request('/media/teleport', {})).rejects.toThrow(/unknown media request \/media\/teleport/);
    await expect(c.request('/controller/twist', {})).rejects.toThrow('req is for /media/* topics');
    for (let i = 0; i < 4; i++) await c.request('/media/transport', {});
    await expect(c.request('/media/transport', {})).rejects.toThrow(
      'too many media transports for this client: at most 4 [limit:transportsPerClient]',
    );
    await c.close();
  });
});
