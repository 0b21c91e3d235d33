// The page of test/browser/watch-page.ts, bundled, as gateway routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Routes serving `/watch` (the page) and `/watch.js` (its script, bundled from source). */
export async function watchPageRoutes(): Promise<(req: IncomingMessage, res: ServerResponse) => boolean> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./watch-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.text;
  const html =
    '<!doctype html><title>watch</title><style>telekit-camera-viewer{width:640px}</style><script type="module" src="/watch.js"></script>';
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/watch.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      return true;
    }
    if (path === '/watch') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return true;
    }
    return false;
  };
}
