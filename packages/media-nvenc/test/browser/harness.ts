// What the browser tests and benchmarks share: Debian's Chromium, and the viewer page bundled.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { Sfu } from '../../src/index.js';

export { launchChromium } from '@telekit/testkit/browser';

/** The viewer page (test/browser/viewer.ts) as one script, and its HTML. */
export async function viewerPage(): Promise<{ js: string; html: string }> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./viewer.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  return {
    js: bundle.outputFiles[0]!.text,
    html: '<!doctype html><title>viewer</title><video muted playsinline autoplay></video><script type="module" src="/viewer.js"></script>',
  };
}

/** Waits until the page's viewer has shown `frames` frames (or failed), and returns its state. */
export async function framesShown(page: Page, frames: number, timeout = 30_000) {
  await page.waitForFunction(
    (n) => window.telekitViewer?.frames >= n || window.telekitViewer?.error,
    frames,
    { timeout },
  );
  return page.evaluate(() => window.telekitViewer);
}

/** The colour of each of the test pattern's seven bars, sampled low in the picture. */
export async function barColours(page: Page): Promise<string[]> {
  const pixels = await page.evaluate(() => {
    const video = document.querySelector('video')!;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(video, 0, 0);
    return Array.from({ length: 7 }, (_, i) =>
      Array.from(
        g
          .getImageData(Math.floor(((i + 0.5) * canvas.width) / 7), Math.floor(canvas.height * 0.8), 1, 1)
          .data.slice(0, 3),
      ),
    );
  });
  return pixels.map(([r, g, b]) => `${r! > 128 ? 'R' : ''}${g! > 128 ? 'G' : ''}${b! > 128 ? 'B' : ''}`);
}

/** testPatternSource's bars, left to right: white, yellow, cyan, green, magenta, red, blue. */
export const BARS = ['RGB', 'RG', 'GB', 'G', 'RB', 'R', 'B'];

/**
 * An HTTP server for the viewer page: the page, its script, `/signal/<op>` answered by the SFU
 * (the app's signalling goes over the gateway; this keeps the SFU tests free of it), and, with
 * `hlsDir`, the stream's HLS files under `/media/hls/cam/`.
 */
export async function viewerServer(
  sfu: Sfu,
  options: { hlsDir?: string } = {},
): Promise<{ url: string; server: Server }> {
  const { js, html } = await viewerPage();
  // biome-ignore lint/suspicious/noExplicitAny: the page sends what mediasoup-client produces
  const ops: Record<string, (body: any) => Promise<unknown>> = {
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
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (path === '/viewer.js')
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      if (path.startsWith('/media/hls/cam/') && options.hlsDir) {
        const file = await readFile(join(options.hlsDir, basename(path)));
        return void res.writeHead(200).end(file);
      }
      if (path.startsWith('/signal/')) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const handler = ops[path.slice('/signal/'.length)];
        if (!handler) return void res.writeHead(404).end('{}');
        const answer = await handler(JSON.parse(Buffer.concat(chunks).toString() || '{}'));
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } catch (error) {
      res
        .writeHead(path.startsWith('/media/') ? 404 : 400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: (error as Error).message }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
