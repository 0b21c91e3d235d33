import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import { build } from 'esbuild';
import type { types } from 'mediasoup';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chooseEncoder,
  createSfu,
  createWorker,
  profiles,
  type Sfu,
  SupervisedEncoder,
} from '../src/index.js';

const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
let worker: types.Worker;
let sfu: Sfu;
let encoder: SupervisedEncoder;
let server: Server;
let url = '';
let browser: Browser;

beforeAll(async () => {
  worker = await createWorker();
  sfu = await createSfu({ worker });
  const stream = await sfu.addStream('cam');
  const { encoder: name } = await chooseEncoder('auto');
  encoder = new SupervisedEncoder({
    encoder: name,
    profile: { ...profiles['480p30'], width: 320, height: 240 },
    input: { kind: 'test-pattern' },
    rtp: { ...stream.ingest },
    logger: silentLogger,
  });
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser/viewer.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
  });
  const js = bundle.outputFiles[0]!.text;
  const html =
    '<!doctype html><title>viewer</title><video muted playsinline autoplay width="320" height="240"></video><script type="module" src="/viewer.js"></script>';
  // HTTP signalling for the test page (the app's signalling goes over the gateway's /media/* topics).
  // biome-ignore lint/suspicious/noExplicitAny: the test page sends what mediasoup-client produces
  const signalling: Record<string, (body: any) => Promise<unknown>> = {
    join: async () => ({ rtpCapabilities: sfu.rtpCapabilities }),
    transport: () => sfu.createViewerTransport(),
    connect: async (b) => {
      await sfu.connect(b.transport, b.dtlsParameters);
      return {};
    },
    consume: (b) => sfu.consume(b.transport, b.stream, b.rtpCapabilities),
    resume: async (b) => {
      await sfu.resume(b.consumer);
      return {};
    },
  };
  server = createServer(async (req, res) => {
    try {
      if (req.url?.startsWith('/viewer.js'))
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      if (req.url?.startsWith('/signal/')) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        const op = req.url.slice('/signal/'.length);
        const handler = signalling[op];
        const answer = handler ? await handler(body) : undefined;
        if (answer === undefined) return void res.writeHead(404).end('{}');
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } catch (error) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: (error as Error).message }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  await encoder?.close();
  sfu?.close();
  worker?.close();
});

describe('video to Chromium through mediasoup', () => {
  it('a viewer decodes the encoded stream; a second viewer joins; one encode for both', {
    timeout: 60_000,
  }, async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(
      () => window.telekitViewer?.frames > 20 || window.telekitViewer?.error,
      undefined,
      { timeout: 30_000 },
    );
    const first = await page.evaluate(() => window.telekitViewer);
    expect(first.error).toBeUndefined();
    expect(first.width).toBe(320);
    expect(first.height).toBe(240);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: `${results}media-viewer.png` });
    // The picture is ffmpeg's testsrc2: colour bars, red, green, yellow, blue, magenta, cyan, left
    // to right. Sample each bar near the bottom, where nothing moves.
    const pixels = await page.evaluate(() => {
      const video = document.querySelector('video')!;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const g = canvas.getContext('2d')!;
      g.drawImage(video, 0, 0);
      return [25, 80, 135, 190, 245, 300].map((x) =>
        Array.from(g.getImageData(x, 230, 1, 1).data.slice(0, 3)),
      );
    });
    const dominant = pixels.map(
      ([r, g, b]) => `${r! > 128 ? 'R' : ''}${g! > 128 ? 'G' : ''}${b! > 128 ? 'B' : ''}`,
    );
    expect(dominant).toEqual(['R', 'G', 'RG', 'B', 'RB', 'GB']);

    const second = await browser.newPage();
    await second.goto(url);
    await second.waitForFunction(
      () => window.telekitViewer?.frames > 5 || window.telekitViewer?.error,
      undefined,
      { timeout: 30_000 },
    );
    const s = await second.evaluate(() => window.telekitViewer);
    expect(s.error).toBeUndefined();
    expect(sfu.viewers('cam')).toBe(2);
    expect(encoder.status.restarts).toBe(0);
  });

  it('out-of-order or unknown signalling is refused, naming what is wrong', async () => {
    const t = await sfu.createViewerTransport();
    await expect(sfu.consume(t.id, 'no-such-stream', sfu.rtpCapabilities)).rejects.toThrow(
      'unknown stream [stream:no-such-stream]',
    );
    await expect(sfu.consume(t.id, 'cam', { codecs: [] })).rejects.toThrow(
      'the viewer cannot decode this stream',
    );
    await expect(sfu.consume('nope', 'cam', sfu.rtpCapabilities)).rejects.toThrow(
      'unknown transport [transport:nope]',
    );
    await expect(sfu.resume('nope')).rejects.toThrow('unknown consumer');
  });
});
