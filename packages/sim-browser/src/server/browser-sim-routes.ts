import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { SimMode } from '../browser-simulation.js';
import { sceneRoutes } from './scene-routes.js';

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
 * `<prefix>/config.json` (scene and mode), `<prefix>/mujoco.wasm` (the engine, cached a day), and
 * the scene files ({@link sceneRoutes}). The page side is `BrowserSimulation.fromServer`.
 */
export function browserSimRoutes(options: BrowserSimRoutesOptions) {
  const prefix = options.prefix ?? '/sim';
  const scenes = sceneRoutes({ scenes: options.scenes, prefix });
  const config: BrowserSimConfig = { scene: options.scene, mode: options.mode ?? 'auto' };
  let wasm: Promise<Buffer> | undefined;
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === `${prefix}/config.json`) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(config));
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
