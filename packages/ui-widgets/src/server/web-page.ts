/**
 * Serving an app's page from Node (`@telekit/ui-widgets/server`): its HTML and its scripts, either
 * bundled with esbuild in memory at start (no build step, no files written) or prebuilt by
 * {@link buildPage} (`telekit-page build`), and served with HTTP caching.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { readBuiltPage } from './build-page.js';
import { bundlePage, etagOf, type PageBundle, type PageSource } from './bundle-page.js';
import { PAGE_CSS } from './page-css.js';

/** Options of {@link webPage}. */
export interface WebPageOptions extends PageSource {
  /**
   * A directory {@link buildPage} wrote (e.g. `new URL('../dist/web/', import.meta.url)`). When it
   * holds a built page, that page is served as it is and esbuild is never loaded; when it holds
   * none, the page is bundled in memory from `dir` as without this option.
   */
  prebuilt?: URL | string;
}

/** A page ready to serve. */
export interface WebPage {
  readonly html: string;
  /** The entry script, as served at its hashed path (and at `/app.js`). */
  readonly js: string;
  /** Where the page came from: a directory `buildPage` wrote, or esbuild at start. */
  readonly origin: 'prebuilt' | 'bundled';
  /** Every script of the page (entry and chunks), by path under the root, with its size in bytes. */
  readonly files: readonly { path: string; bytes: number }[];
  /**
   * Gateway `routes` (GET and HEAD):
   * - `/` and `/index.html`: the HTML, its script tag pointing at the hashed entry;
   * - `/assets/<name>-<hash>.js`: the entry and its chunks, `cache-control: immutable` for a year;
   * - `/app.js`: the entry under its old name, for pages that load it so (revalidated each time);
   * - `/telekit.css`: the shared page layout ({@link PAGE_CSS});
   * - `/favicon.ico`: none (204).
   *
   * Everything but the favicon carries a strong ETag and answers a matching `if-none-match` with
   * 304; the HTML, `/app.js` and the CSS are `no-cache` (used after revalidation), so a restarted
   * server with a new build is picked up at the next load. Bodies are sent gzipped to clients that
   * accept it (compressed once, at start). Returns false for anything else, so routes can be chained.
   */
  routes(req: IncomingMessage, res: ServerResponse): boolean;
}

interface Served {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly etag: string;
  readonly cache: string;
}

const REVALIDATE = 'no-cache';
const FOREVER = 'public, max-age=31536000, immutable';

function served(type: string, body: Buffer | string, cache: string): Served {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const gz = raw.length > 1024 ? gzipSync(raw, { level: 9 }) : undefined;
  return {
    type,
    body: raw,
    gzip: gz && gz.length < raw.length ? gz : undefined,
    etag: etagOf(raw),
    cache,
  };
}

/** Whether `if-none-match` names `etag` (or `*`), weak forms included. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag || tag === `${etag.slice(0, -1)}-gz"`;
  });
}

/**
 * Makes a page ready to serve: reads the build in `prebuilt` when there is one, otherwise reads
 * the HTML and bundles the script (see {@link PageSource.conditions} for which sources). Either
 * way everything is in memory before the first request, and a missing HTML file fails here,
 * naming it.
 *
 * @example
 * ```ts
 * import { webPage } from '@telekit/ui-widgets/server';
 * const page = await webPage({ dir: new URL('./web/', import.meta.url) });
 * gateway({ auth, routes: page.routes });
 * ```
 */
export async function webPage(options: WebPageOptions): Promise<WebPage> {
  const built = options.prebuilt ? await readBuiltPage(options.prebuilt) : undefined;
  const bundle: PageBundle = built ?? (await bundlePage(options));
  const table = new Map<string, Served>();
  const html = served('text/html; charset=utf-8', bundle.html, REVALIDATE);
  table.set('/', html);
  table.set('/index.html', html);
  for (const f of bundle.files)
    table.set(`/${f.path}`, served(f.type, f.body, f.immutable ? FOREVER : REVALIDATE));
  const entry = table.get(`/${bundle.entry}`)!;
  // The entry under its old name: its chunks are imported relative to `/assets/`, so this is a module
  // that imports the entry rather than a copy of it.
  table.set('/app.js', served(entry.type, `import "/${bundle.entry}";\n`, REVALIDATE));
  table.set('/telekit.css', served('text/css; charset=utf-8', PAGE_CSS, REVALIDATE));
  return {
    html: bundle.html,
    js: entry.body.toString('utf8'),
    origin: built ? 'prebuilt' : 'bundled',
    files: bundle.files.map((f) => ({ path: f.path, bytes: f.body.length })),
    routes(req, res) {
      if (req.method !== undefined && req.method !== 'GET' && req.method !== 'HEAD') return false;
      const url = (req.url ?? '/').split('?')[0]!;
      if (url === '/favicon.ico') {
        res.writeHead(204).end();
        return true;
      }
      const file = table.get(url);
      if (!file) return false;
      const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const etag = gzip ? `${file.etag.slice(0, -1)}-gz"` : file.etag;
      const headers: Record<string, string> = {
        'content-type': file.type,
        'cache-control': file.cache,
        etag,
        ...(file.gzip ? { vary: 'accept-encoding' } : {}),
      };
      if (matches(req.headers['if-none-match'], file.etag)) {
        res.writeHead(304, headers).end();
        return true;
      }
      const body = gzip ? file.gzip! : file.body;
      res.writeHead(200, {
        ...headers,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'content-length': String(body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
