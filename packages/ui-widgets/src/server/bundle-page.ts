import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a page is made of: its HTML and its script's entry, in one directory. */
export interface PageSource {
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
  /**
   * The package export conditions the bundle resolves with. Default: `['source']` while this module
   * itself runs from its TypeScript sources (an app inside the Telekit repository, which bundles the
   * workspace's sources), none otherwise — an installed app bundles the packages' built `dist`.
   */
  conditions?: string[];
}

/** One file of a bundled page, as it is served. */
export interface PageFile {
  /** Its path under the page's root, e.g. `assets/app-5KXQ2V7A.js`. */
  readonly path: string;
  readonly type: string;
  readonly body: Buffer;
  /** Named by its content (`assets/…-<hash>.<ext>`): cacheable for ever. */
  readonly immutable: boolean;
}

/** A bundled page: its HTML (already pointing at the hashed entry) and its files. */
export interface PageBundle {
  readonly html: string;
  /** The entry's path among `files` (`assets/app-<hash>.js`). */
  readonly entry: string;
  readonly files: readonly PageFile[];
}

/** Where the hashed files of a page live, under its root. */
export const ASSETS = 'assets';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The content type a page file is served with, by its extension. */
export const contentType = (path: string): string => TYPES[extname(path)] ?? 'application/octet-stream';

/** Whether this module runs from its TypeScript sources (in the Telekit repository). */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** A directory given as a file URL or a path (relative to the working directory) as an absolute path. */
export const dirPath = (dir: URL | string): string =>
  resolve(typeof dir === 'string' ? dir : fileURLToPath(dir));

/** The page's HTML with its script tag pointing at the hashed entry instead of `/app.js`. */
export const pointAtEntry = (html: string, entry: string): string =>
  html.replace(/(<script\b[^>]*\bsrc=)(["'])\/app\.js\2/g, `$1$2/${entry}$2`);

/** A strong ETag for a body. */
export const etagOf = (body: Buffer | string): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

/**
 * Reads the page's HTML and bundles its entry with esbuild (an optional peer dependency, loaded
 * here only): minified ES modules for the browser, split so that what a module imports
 * dynamically (hls.js, for a camera viewer that falls back to HLS) is a chunk of its own, loaded
 * only when needed. Every script is named by its content under `assets/`; nothing is written.
 */
export async function bundlePage(options: PageSource): Promise<PageBundle> {
  const dir = dirPath(options.dir);
  const { build } = await import('esbuild');
  const [html, out] = await Promise.all([
    readFile(join(dir, options.html ?? 'index.html'), 'utf8'),
    build({
      entryPoints: { app: join(dir, options.entry ?? 'main.ts') },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: options.target ?? 'chrome110',
      conditions: options.conditions ?? (FROM_SOURCES ? ['source'] : []),
      ...(options.external ? { external: options.external } : {}),
      entryNames: '[name]-[hash]',
      absWorkingDir: dir,
      outdir: join(dir, ASSETS),
      metafile: true,
      minify: true,
      write: false,
      logLevel: 'silent',
    }),
  ]);
  // The metafile names outputs relative to the working directory, the page's: `assets/app-<hash>.js`.
  const entry = Object.entries(out.metafile.outputs).find(([, o]) => o.entryPoint)![0];
  const files = out.outputFiles.map((f) => {
    const path = relative(dir, f.path);
    return { path, type: contentType(path), body: Buffer.from(f.contents), immutable: true };
  });
  return { html: pointAtEntry(html, entry), entry, files };
}
