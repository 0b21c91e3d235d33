import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bundlePage, contentType, dirPath, type PageBundle, type PageSource } from './bundle-page.js';

/** The file a built page's directory holds beside its HTML and `assets/`: what {@link webPage} reads. */
export const PAGE_MANIFEST = 'telekit-page.json';

interface Manifest {
  readonly format: 'telekit-page/1';
  readonly entry: string;
  readonly files: readonly string[];
}

/** Options of {@link buildPage}: the page, and where to write it. */
export interface BuildPageOptions extends PageSource {
  /** The directory to write (emptied first), e.g. `dist/web`. */
  outDir: URL | string;
}

/** What {@link buildPage} wrote. */
export interface BuiltPage {
  readonly outDir: string;
  /** Every file written, relative to `outDir`, with its size in bytes. */
  readonly files: readonly { path: string; bytes: number }[];
}

/**
 * The build step of a page for production: bundles it as {@link webPage} would at start and writes
 * the result — `index.html` (pointing at the hashed entry), `assets/<name>-<hash>.js` and
 * `telekit-page.json` — so that the server starts without esbuild and serves files named by their
 * content (cached for ever by browsers and proxies). `telekit-page build <dir> <outDir>` runs it.
 *
 * @example
 * ```ts
 * import { buildPage } from '@telekit/ui-widgets/server';
 * await buildPage({ dir: 'src/web', outDir: 'dist/web' });
 * // later, in the app: webPage({ dir: new URL('./web/', import.meta.url), prebuilt: new URL('../dist/web/', import.meta.url) })
 * ```
 */
export async function buildPage(options: BuildPageOptions): Promise<BuiltPage> {
  const bundle = await bundlePage(options);
  const outDir = dirPath(options.outDir);
  await rm(outDir, { recursive: true, force: true });
  const written: { path: string; bytes: number }[] = [];
  const put = async (path: string, body: string | Buffer) => {
    await mkdir(dirname(join(outDir, path)), { recursive: true });
    await writeFile(join(outDir, path), body);
    written.push({ path, bytes: Buffer.byteLength(body) });
  };
  await put('index.html', bundle.html);
  for (const f of bundle.files) await put(f.path, f.body);
  const manifest: Manifest = {
    format: 'telekit-page/1',
    entry: bundle.entry,
    files: bundle.files.map((f) => f.path),
  };
  await put(PAGE_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return { outDir, files: written };
}

/**
 * Reads a page {@link buildPage} wrote, or returns undefined when `dir` holds none (no manifest).
 * A manifest that names a missing file is an error, not a reason to bundle again.
 */
export async function readBuiltPage(dir: URL | string): Promise<PageBundle | undefined> {
  const root = dirPath(dir);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(root, PAGE_MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (manifest.format !== 'telekit-page/1')
    throw new Error(`${join(root, PAGE_MANIFEST)}: unknown format [format:${String(manifest.format)}]`);
  const [html, ...bodies] = await Promise.all([
    readFile(join(root, 'index.html'), 'utf8'),
    ...manifest.files.map((path) => readFile(join(root, path))),
  ]);
  return {
    html,
    entry: manifest.entry,
    files: manifest.files.map((path, i) => ({
      path,
      type: contentType(path),
      body: bodies[i]!,
      immutable: true,
    })),
  };
}
