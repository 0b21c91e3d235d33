import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SceneManifest } from '../http-scenes.js';
import { readSceneFiles } from './file-scenes.js';

/** Options of {@link sceneRoutes}. */
export interface SceneRoutesOptions {
  /** Scene names and their MJCF files (e.g. `bundledScenes` from `@telekit/sim-genesis`). */
  scenes: Readonly<Record<string, string>>;
  /** URL prefix. Default `/sim`. */
  prefix?: string;
}

/**
 * HTTP routes that give browser simulators the server's own scene files, cache-friendly:
 *
 * - `GET <prefix>/scenes/<name>.json`: the manifest (the main MJCF's name; each file's name, size
 *   and SHA-256), revalidated on every load (`no-cache` with an ETag);
 * - `GET <prefix>/assets/<sha256>`: a file's bytes by content, cached for good (`immutable`): a
 *   browser downloads each mesh once, however often the page loads, until it changes.
 *
 * Plug into the gateway's `routes`. The files are the ones the server simulator loads, read from
 * disk on each manifest request, so an edited scene reaches browsers on their next load.
 */
export function sceneRoutes(options: SceneRoutesOptions) {
  const prefix = options.prefix ?? '/sim';
  const assets = new Map<string, Uint8Array>();
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = pathOf(req.url);
    if (!path?.startsWith(`${prefix}/`) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const rest = path.slice(prefix.length + 1);
    const scene = /^scenes\/([A-Za-z0-9._-]+)\.json$/.exec(rest)?.[1];
    if (scene !== undefined) {
      const file = Object.hasOwn(options.scenes, scene) ? options.scenes[scene] : undefined;
      if (!file)
        return send(
          res,
          404,
          'text/plain',
          `no scene ${scene}; known: ${Object.keys(options.scenes).join(', ')}`,
        );
      let read: Awaited<ReturnType<typeof readSceneFiles>>;
      try {
        read = await readSceneFiles(file);
      } catch (error) {
        // The server's own scene is unreadable: its fault, said at once (the message names the
        // scene's files relative to its directory, never the directory).
        return send(res, 500, 'text/plain', `scene ${scene} cannot be read: ${(error as Error).message}`);
      }
      const { main, files } = read;
      const manifest: SceneManifest = { id: scene, main, files: [] };
      for (const [name, bytes] of files) {
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        assets.set(sha256, bytes);
        manifest.files.push({ name, size: bytes.byteLength, sha256 });
      }
      const body = JSON.stringify(manifest);
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return send(res, 304);
      return send(res, 200, 'application/json', body);
    }
    const sha = /^assets\/([0-9a-f]{64})$/.exec(rest)?.[1];
    if (sha !== undefined) {
      const bytes = assets.get(sha);
      if (!bytes) return send(res, 404, 'text/plain', 'unknown asset: load its scene manifest first');
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      return send(res, 200, 'application/octet-stream', bytes);
    }
    return send(res, 404, 'text/plain', `not found: ${path}`);
  };
}

/** The request's path, with dot segments resolved; undefined for a target that is no URL path. */
function pathOf(url = '/'): string | undefined {
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, type?: string, body?: string | Uint8Array): true {
  res.statusCode = status;
  if (type) res.setHeader('Content-Type', type);
  res.end(body);
  return true;
}
