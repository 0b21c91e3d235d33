import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SimMode } from '../browser-simulation.js';
import { WAYPOINT_POLICY_URL } from '../policy.js';
import { sceneRoutes } from './scene-routes.js';

/** onnxruntime-web's `dist` directory, where it is installed. */
function ortDist(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  } catch {
    return undefined;
  }
}

/** What `GET <prefix>/config.json` answers: what a page needs to start its simulator. */
export interface BrowserSimConfig {
  /** The scene the server simulates, by the name the scene routes know. */
  scene: string;
  /** The server's choice (`SIM_MODE`); a page may override it. */
  mode: SimMode;
}

/** Options of {@link browserSimRoutes}. */
export interface BrowserSimRoutesOptions {
  /** Scene names and their MJCF files (e.g. `bundledScenes` from `@telekit/sim-genesis`). */
  scenes: Readonly<Record<string, string>>;
  /** The scene the server runs. */
  scene: string;
  /** Default `auto`. */
  mode?: SimMode;
  /** URL prefix. Default `/sim`. */
  prefix?: string;
  /** The ONNX model served at `<prefix>/policy/waypoint.onnx`. Default: the one this package ships. */
  policy?: string | URL;
}

/** Errors of a read that mean "there is no such file" (answered 404), as opposed to a failing disk. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED']);

/** A file read on first use and kept; a failed read is not kept, so the next request reads again. */
function kept(read: () => Promise<Buffer>): () => Promise<Buffer> {
  let file: Promise<Buffer> | undefined;
  return () => {
    file ??= read().catch((error: unknown) => {
      file = undefined;
      throw error;
    });
    return file;
  };
}

/**
 * Answers with a file: read first, headers after, so a missing file is a 404 at once (never a 200
 * whose body does not come) and a failing read a 500.
 */
async function sendFile(
  res: ServerResponse,
  read: () => Promise<Buffer>,
  headers: Record<string, string>,
): Promise<true> {
  let body: Buffer;
  try {
    body = await read();
  } catch (error) {
    const missing = MISSING.has(String((error as { code?: unknown }).code));
    res
      .writeHead(missing ? 404 : 500, { 'content-type': 'text/plain' })
      .end(missing ? 'not found\n' : 'cannot read the file\n');
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.byteLength) }).end(body);
  return true;
}

/**
 * Everything a page needs from the server to simulate in the browser, as gateway routes:
 * `<prefix>/config.json` (scene and mode), `<prefix>/mujoco.wasm` (the engine, cached a day), the
 * scene files ({@link sceneRoutes}), and for pages that run the waypoint policy
 * `<prefix>/policy/waypoint.onnx` and onnxruntime-web's engine under `<prefix>/ort/`. The page side is `BrowserSimulation.fromServer`.
 *
 * Only `GET` and `HEAD` are answered. Every file is read before its headers are written: a missing
 * one is a 404 at once. Files are named by fixed routes or, under `<prefix>/ort/`, by a name that
 * must match `ort-wasm*.wasm|mjs` with no separator, so no request reaches outside those files.
 */
export function browserSimRoutes(options: BrowserSimRoutesOptions) {
  const prefix = options.prefix ?? '/sim';
  const scenes = sceneRoutes({ scenes: options.scenes, prefix });
  const config: BrowserSimConfig = { scene: options.scene, mode: options.mode ?? 'auto' };
  const wasm = kept(async () =>
    readFile(createRequire(import.meta.url).resolve('@mujoco/mujoco/mujoco.wasm')),
  );
  const policy = kept(() => readFile(options.policy ?? WAYPOINT_POLICY_URL));
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0];
    if (path === `${prefix}/config.json`) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(config));
      return true;
    }
    if (path === `${prefix}/policy/waypoint.onnx`)
      return sendFile(res, policy, {
        'content-type': 'application/octet-stream',
        'cache-control': 'no-cache',
      });
    const ortFile = path?.startsWith(`${prefix}/ort/`) ? path.slice(prefix.length + 5) : undefined;
    if (ortFile !== undefined) {
      // onnxruntime-web's engine, for pages that run the policy (when it is installed).
      const dir = ortDist();
      if (!dir || !/^ort-wasm[\w.-]*\.(wasm|mjs)$/.test(ortFile)) return false;
      return sendFile(res, () => readFile(join(dir, ortFile)), {
        'content-type': ortFile.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
        'cache-control': 'public, max-age=86400',
      });
    }
    if (path === `${prefix}/mujoco.wasm`)
      return sendFile(res, wasm, {
        'content-type': 'application/wasm',
        'cache-control': 'public, max-age=86400',
      });
    return scenes(req, res);
  };
}
