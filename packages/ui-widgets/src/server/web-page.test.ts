import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSS } from './page-css.js';
import { type WebPage, webPage } from './web-page.js';

// webPage reads and bundles everything when it is made, so no request waits on the disk: every
// answer comes at once, and anything but its four paths falls through to the next route.
const DEADLINE_MS = 10_000;
let dir: string;
let page: WebPage;
let server: Server;
let port = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telekit-web-page-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="/app.js"></script>');
  await writeFile(join(dir, 'main.ts'), 'const n: number = 41; document.title = String(n + 1);');
  page = await webPage({ dir });
  server = createServer((req, res) => {
    if (!page.routes(req, res)) res.writeHead(404).end('next route\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A request with its path sent as written (fetch would resolve `..` first). */
const get = (path: string) =>
  new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: DEADLINE_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path} hung`)));
    req.on('error', reject);
    req.end();
  });

describe('webPage', () => {
  it('serves the page, its bundle and the shared layout from memory', async () => {
    expect(await get('/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get('/index.html?mode=hls')).body).toContain('src="/app.js"');
    const js = await get('/app.js');
    expect(js.type).toBe('text/javascript');
    expect(js.body).toContain('document.title');
    expect(js.body).not.toContain(': number'); // TypeScript bundled to JavaScript
    expect((await get('/telekit.css')).body).toBe(PAGE_CSS);
    expect((await get('/favicon.ico')).status).toBe(204);
  });

  it('anything else falls through to the next route, traversal attempts included', async () => {
    for (const path of [
      '/main.ts',
      '/index.html/..',
      '/../index.html',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/app.js/../../etc/passwd',
      '//etc/passwd',
      '/index.html%00',
    ])
      expect(await get(path), path).toEqual({ status: 404, body: 'next route\n', type: undefined });
  });

  it('a page whose HTML is missing fails when it is made, naming the file, not when it is served', async () => {
    await expect(webPage({ dir, html: 'missing.html' })).rejects.toThrow(/missing\.html/);
  });
});
