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
}

/**
 * Everything a page needs from the server to simulate in the browser, as gateway routes:
 * `<prefix>/config.json` (scene and mode), `<prefix>/mujoco.wasm` (the engine, cached a day), the
 * scene files ({@link sceneRoutes}), and for pages that run the waypoint policy
 * `<prefix>/policy/waypoint.onnx` and onnxruntime-web's engine under `<prefix>/ort/`. The page side is `BrowserSimulation.fromServer`.
 */
export function browserSimRoutes(options: BrowserSimRoutesOptions) {
  const prefix = options.prefix ?? '/sim';
  const scenes = sceneRoutes({ scenes: options.scenes, prefix });
  const config: BrowserSimConfig = { scene: options.scene, mode: options.mode ?? 'auto' };
  let wasm: Promise<Buffer> | undefined;
  let policy: Promise<Buffer> | undefined;
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === `${prefix}/config.json`) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(config));
      return true;
    }
    if (path === `${prefix}/policy/waypoint.onnx`) {
      policy ??= readFile(WAYPOINT_POLICY_URL);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(await policy);
      return true;
    }
    const ortFile = path?.startsWith(`${prefix}/ort/`) ? path.slice(prefix.length + 5) : undefined;
    if (ortFile !== undefined) {
      // onnxruntime-web's engine, for pages that run the policy (when it is installed).
      const dir = ortDist();
      if (!dir || !/^ort-wasm[\w.-]*\.(wasm|mjs)$/.test(ortFile)) return false;
      res.writeHead(200, {
        'content-type': ortFile.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
        'cache-control': 'public, max-age=86400',
      });
      res.end(await readFile(join(dir, ortFile)));
      return true;
    }
    if (path === `${prefix}/mujoco.wasm`) {
      wasm ??= readFile(createRequire(import.meta.url).resolve('@mujoco/mujoco/mujoco.wasm'));
      res.writeHead(200, { 'content-type': 'application/wasm', 'cache-control': 'public, max-age=86400' });
      res.end(await wasm);
      return true;
    }
    return scenes(req, res);
  };
}
