import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, inProcess, MediaSignallingToken, type Plugin, silentLogger } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import {
  type AccessList,
  defaultAccessList,
  type Gateway,
  GatewayToken,
  gateway,
  jwtVerifier,
  type RouteHandler,
  signToken,
} from '@telekit/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hlsRoute } from '../src/index.js';

// The HLS route on a real gateway, over HLS directories written here (the files an encoder writes;
// the encode itself is media-app.test.ts's): the gateway lets a request in, the route serves files.
const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const dir = mkdtempSync(join(tmpdir(), 'telekit-hls-route-'));
const starting = mkdtempSync(join(tmpdir(), 'telekit-hls-route-'));
writeFileSync(join(dir, 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\nseg1.ts\n');
writeFileSync(join(dir, 'seg1.ts'), Buffer.alloc(188, 0x47));
/** The streams asked for, in order: asking holds a stream (starts its encoder). */
const asked: string[] = [];
const dirs = new Map([
  ['cam', dir],
  ['starting', starting],
]);

/** The media plugin's signalling, as far as HLS goes. */
const fakeMedia = (): Plugin => ({
  name: 'fake-media',
  provides: [MediaSignallingToken],
  setup(ctx) {
    const media: MediaSignalling = {
      request: async () => ({}),
      release() {},
      hlsDirectory(stream) {
        asked.push(stream);
        return dirs.get(stream);
      },
    };
    ctx.provide(MediaSignallingToken, media);
  },
});

// Viewers may not watch here; operators may (as by default).
const acl: AccessList = { ...defaultAccessList, viewer: { subscribe: ['/telemetry/*'], publish: [] } };
let app: ReturnType<typeof createApp>;
let url = '';
let operator = '';
let viewer = '';

beforeAll(async () => {
  operator = await signToken({ sub: 'olga', role: 'operator' }, { secret });
  viewer = await signToken({ sub: 'vera', role: 'viewer' }, { secret });
  app = createApp({
    logger: silentLogger,
    // Listed first: the host sets it up after the gateway and the media it requires.
    plugins: [hlsRoute(), inProcess(), fakeMedia(), gateway({ auth: jwtVerifier({ secret }), acl, port: 0 })],
  });
  await app.start();
  url = app.resolve(GatewayToken).url;
});

afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(starting, { recursive: true, force: true });
});

const get = (path: string, tok?: string) =>
  fetch(`${url}${path}`, tok ? { headers: { authorization: `Bearer ${tok}` } } : {});

describe('hlsRoute', () => {
  it('is set up after the media plugin and the gateway', () => {
    expect(app.plugins).toEqual([
      '@telekit/core/in-process',
      'fake-media',
      '@telekit/gateway',
      '@telekit/media-nvenc/hls',
    ]);
  });

  it('lets the gateway refuse first: 401 without a token, 403 for a role that may not watch; no stream held', async () => {
    expect((await get('/media/hls/cam/index.m3u8')).status).toBe(401);
    expect((await get('/media/hls/cam/index.m3u8?token=forged')).status).toBe(401);
    const refused = await get('/media/hls/cam/index.m3u8', viewer);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('role viewer may not subscribe /media/hls\n');
    expect(asked).toEqual([]);
  });

  it('serves the playlist and its segments, by bearer or ?token=, with their types and caching', async () => {
    const playlist = await get('/media/hls/cam/index.m3u8', operator);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers.get('cache-control')).toBe('no-cache');
    expect(await playlist.text()).toContain('seg1.ts');
    const segment = await get(`/media/hls/cam/seg1.ts?token=${operator}`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toBe('max-age=60');
    expect((await segment.arrayBuffer()).byteLength).toBe(188);
    expect(asked).toEqual(['cam', 'cam']);
  });

  it('503 with Retry-After for a playlist not written yet; 404 for a gone segment, an unknown stream, a bad name', async () => {
    const early = await get('/media/hls/starting/index.m3u8', operator);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    expect((await get('/media/hls/cam/seg0.ts', operator)).status).toBe(404);
    expect((await get('/media/hls/nobody/index.m3u8', operator)).status).toBe(404);
    for (const bad of ['/media/hls/cam/..%2F..%2Fetc%2Fpasswd', '/media/hls/cam/index.txt', '/media/hls/cam'])
      expect((await get(bad, operator)).status, bad).toBe(404);
  });
});

describe('hlsRoute on a gateway that does not check route access', () => {
  it('serves nothing: a call without a principal is refused', async () => {
    // A stand-in for a gateway older than route access: it calls the handler without a principal.
    let handler: RouteHandler | undefined;
    const server = createServer((req, res) => void handler?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const old: Plugin = {
      name: 'old-gateway',
      provides: [GatewayToken],
      setup(ctx) {
        ctx.provide(GatewayToken, {
          route: (_prefix: string, h: RouteHandler) => {
            handler = h;
            return () => {};
          },
        } as unknown as Gateway);
      },
    };
    const bare = createApp({ logger: silentLogger, plugins: [fakeMedia(), old, hlsRoute()] });
    await bare.start();
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/media/hls/cam/index.m3u8`);
      expect(res.status).toBe(403);
      expect(await res.text()).toBe('this gateway does not check route access\n');
    } finally {
      await bare.stop();
      server.close();
    }
  });
});
