import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, PAGE_MANIFEST } from './build-page.js';
import { PAGE_CSS } from './page-css.js';
import { type WebPage, webPage } from './web-page.js';

// webPage reads and bundles everything when it is made, so no request waits on the disk: every
// answer comes at once, and anything but its paths falls through to the next route.
const DEADLINE_MS = 10_000;
let dir: string;
let page: WebPage;
let server: Server;
let port = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telekit-web-page-'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><link rel="stylesheet" href="/telekit.css"><script type="module" src="/app.js"></script>',
  );
  // A dependency imported only on demand, as the camera viewer imports hls.js: a chunk of its own.
  await writeFile(join(dir, 'later.ts'), `export const later = ${JSON.stringify('x'.repeat(4000))};`);
  await writeFile(
    join(dir, 'main.ts'),
    `const n: number = 41; document.title = String(n + 1);
     if (location.hash === '#later') import('./later.js').then((m) => console.log(m.later));`,
  );
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

interface Answer {
  status: number;
  body: string;
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A request with its path sent as written (fetch would resolve `..` first). */
const get = (path: string, headers: Record<string, string> = {}, method = 'GET', at = port) =>
  new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: at, path, method, headers, timeout: DEADLINE_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: raw.toString('utf8'), raw, headers: res.headers });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path} hung`)));
    req.on('error', reject);
    req.end();
  });

describe('webPage', () => {
  it('serves the page, its bundle and the shared layout from memory', async () => {
    const home = await get('/');
    expect(home).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(page.origin).toBe('bundled');
    // The HTML loads the entry by its hashed name; the old name still works, importing it.
    const entry = /src="\/(assets\/app-[A-Z0-9]+\.js)"/.exec(home.body)?.[1];
    expect(entry, home.body).toBeDefined();
    expect((await get('/index.html?mode=hls')).body).toBe(home.body);
    const js = await get(`/${entry}`);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toBe(page.js);
    expect(js.body).toContain('document.title');
    expect(js.body).not.toContain(': number'); // TypeScript bundled to JavaScript
    expect((await get('/app.js')).body).toBe(`import "/${entry}";\n`);
    expect((await get('/telekit.css')).body).toBe(PAGE_CSS);
    expect((await get('/favicon.ico')).status).toBe(204);
  });

  it('what the page imports on demand is a chunk of its own, fetched only when asked for', async () => {
    expect(page.js).not.toContain('xxxx');
    const chunks = page.files.filter((f) => !page.html.includes(f.path));
    expect(chunks).toHaveLength(1);
    const chunk = await get(`/${chunks[0]!.path}`);
    expect(chunk.status).toBe(200);
    expect(chunk.body).toContain('x'.repeat(4000));
    expect(page.js).toContain(chunks[0]!.path.slice('assets/'.length)); // imported by its hashed name
  });

  it('hashed scripts are cached for good; the HTML, the old entry name and the CSS are revalidated by ETag', async () => {
    for (const f of page.files) {
      const r = await get(`/${f.path}`);
      expect(r.headers['cache-control'], f.path).toBe('public, max-age=31536000, immutable');
      expect(r.headers.etag).toMatch(/^"[\w-]+"$/);
    }
    for (const path of ['/', '/app.js', '/telekit.css']) {
      const first = await get(path);
      expect(first.headers['cache-control'], path).toBe('no-cache');
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^"[\w-]+"$/);
      const again = await get(path, { 'if-none-match': etag });
      expect(again.status, path).toBe(304);
      expect(again.body).toBe('');
      expect((await get(path, { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
      expect((await get(path, { 'if-none-match': '"stale"' })).status).toBe(200);
    }
  });

  it('sends gzip to clients that accept it, with its own ETag, and bodies only to GET', async () => {
    const chunk = `/${page.files.find((f) => !page.html.includes(f.path))!.path}`;
    const plain = await get(chunk);
    const zipped = await get(chunk, { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(zipped.raw.length).toBeLessThan(plain.raw.length);
    expect(gunzipSync(zipped.raw).toString('utf8')).toBe(plain.body);
    expect(zipped.headers.etag).not.toBe(plain.headers.etag);
    expect(
      (await get(chunk, { 'accept-encoding': 'gzip', 'if-none-match': String(zipped.headers.etag) })).status,
    ).toBe(304);
    const head = await get('/telekit.css', {}, 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(PAGE_CSS)));
    expect(await get('/', {}, 'POST')).toMatchObject({ status: 404, body: 'next route\n' });
  });

  it('anything else falls through to the next route, traversal attempts included', async () => {
    for (const path of [
      '/main.ts',
      '/assets/',
      '/assets/../index.html',
      '/index.html/..',
      '/../index.html',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/app.js/../../etc/passwd',
      '//etc/passwd',
      '/index.html%00',
    ])
      expect(await get(path), path).toMatchObject({ status: 404, body: 'next route\n' });
  });

  it('bundles a package from its sources in the repository, from its built files where it is installed', async () => {
    // A package with both, as every Telekit package has: `source` (TypeScript) and `import` (dist).
    const pkg = join(dir, 'node_modules', 'both-ways');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'both-ways',
        type: 'module',
        exports: { '.': { source: './src.js', import: './dist.js' } },
      }),
    );
    await writeFile(join(pkg, 'src.js'), 'export const from = "the sources";');
    await writeFile(join(pkg, 'dist.js'), 'export const from = "the build";');
    await writeFile(join(dir, 'both.ts'), 'import { from } from "both-ways"; document.title = from;');
    // This test runs from the TypeScript sources, as an app in the repository does.
    expect((await webPage({ dir, entry: 'both.ts' })).js).toContain('the sources');
    expect((await webPage({ dir, entry: 'both.ts', conditions: [] })).js).toContain('the build');
  });

  it('a page whose HTML is missing fails when it is made, naming the file, not when it is served', async () => {
    await expect(webPage({ dir, html: 'missing.html' })).rejects.toThrow(/missing\.html/);
  });
});

describe('buildPage', () => {
  it('writes the page once; webPage serves that build as it is, byte for byte', async () => {
    const out = join(dir, 'dist-web');
    const built = await buildPage({ dir, outDir: out });
    const written = built.files.map((f) => f.path).sort();
    expect(written).toEqual(['index.html', PAGE_MANIFEST, ...page.files.map((f) => f.path)].sort());
    expect((await readdir(join(out, 'assets'))).sort()).toEqual(
      page.files.map((f) => f.path.slice('assets/'.length)).sort(),
    );

    // The sources change after the build: the prebuilt page is what is served, not a new bundle.
    await writeFile(join(dir, 'main.ts'), 'document.title = "changed";');
    const prebuilt = await webPage({ dir, prebuilt: out });
    expect(prebuilt.origin).toBe('prebuilt');
    expect(prebuilt.html).toBe(await readFile(join(out, 'index.html'), 'utf8'));
    expect(prebuilt.html).toBe(page.html);
    expect(prebuilt.js).toBe(page.js);

    // Where no build was written, the page is bundled at start as without the option.
    const fresh = await webPage({ dir, prebuilt: join(dir, 'no-build-here') });
    expect(fresh.origin).toBe('bundled');
    expect(fresh.js).toContain('changed');
  });

  it('a build that lost a file is an error naming it, not a page with a hole', async () => {
    const out = join(dir, 'dist-broken');
    const built = await buildPage({ dir, outDir: out });
    const script = built.files.find((f) => f.path.startsWith('assets/'))!;
    await rm(join(out, script.path));
    await expect(webPage({ dir, prebuilt: out })).rejects.toThrow(script.path.slice('assets/'.length));
  });
});
