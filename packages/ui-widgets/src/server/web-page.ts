/**
 * Serving an app's page from Node (`@telekit/ui-widgets/server`): its HTML and its script, bundled
 * with esbuild in memory at start — no build step, no files written.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PAGE_CSS } from './page-css.js';

/** Options of {@link webPage}. */
export interface WebPageOptions {
  /** The page's directory (e.g. `new URL('./web/', import.meta.url)`), holding the HTML and the entry. */
  dir: URL | string;
  /** Default `index.html`; it loads the script as `/app.js`. */
  html?: string;
  /** The script's entry, TypeScript or JavaScript. Default `main.ts`. */
  entry?: string;
  /** esbuild's browser target. Default `chrome110`. */
  target?: string;
  /** Modules the bundle must not include (Node-only branches of a dependency). */
  external?: string[];
}

/** A page ready to serve. */
export interface WebPage {
  readonly html: string;
  readonly js: string;
  /**
   * Gateway `routes`: `/` and `/index.html` (the HTML), `/app.js` (the bundle), `/telekit.css`
   * (the shared page layout, {@link PAGE_CSS}), `/favicon.ico` (none). Returns false for anything else, so routes can be chained.
   */
  routes(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Reads the page and bundles its script (the workspace's `source` condition first, so an app in the
 * repository runs from the TypeScript sources).
 *
 * @example
 * ```ts
 * import { webPage } from '@telekit/ui-widgets/server';
 * const page = await webPage({ dir: new URL('./web/', import.meta.url) });
 * gateway({ auth, routes: page.routes });
 * ```
 */
export async function webPage(options: WebPageOptions): Promise<WebPage> {
  const dir = typeof options.dir === 'string' ? options.dir : fileURLToPath(options.dir);
  const path = (file: string) => `${dir.replace(/\/$/, '')}/${file}`;
  const { build } = await import('esbuild');
  const [html, out] = await Promise.all([
    readFile(path(options.html ?? 'index.html'), 'utf8'),
    build({
      entryPoints: [path(options.entry ?? 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: options.target ?? 'chrome110',
      conditions: ['source'],
      ...(options.external ? { external: options.external } : {}),
      minify: true,
      write: false,
      logLevel: 'silent',
    }),
  ]);
  const js = out.outputFiles[0]!.text;
  return {
    html,
    js,
    routes(req, res) {
      const url = (req.url ?? '/').split('?')[0];
      if (url === '/' || url === '/index.html') {
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' })
          .end(html);
        return true;
      }
      if (url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-cache' }).end(js);
        return true;
      }
      if (url === '/telekit.css') {
        res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'no-cache' }).end(PAGE_CSS);
        return true;
      }
      if (url === '/favicon.ico') {
        res.writeHead(204).end();
        return true;
      }
      return false;
    },
  };
}
