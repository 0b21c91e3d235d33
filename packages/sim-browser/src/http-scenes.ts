import { TelekitError } from '@telekit/core';
import type { SceneSpec } from '@telekit/core/contracts';
import { inlineScenes, type SceneFiles, type SceneResolver } from './scene.js';

/** What `GET <prefix>/scenes/<name>.json` answers (see `sceneRoutes` in `@telekit/sim-browser/server`). */
export interface SceneManifest {
  id: string;
  main: string;
  files: { name: string; size: number; sha256: string }[];
}

/** Options of {@link httpScenes}. */
export interface HttpScenesOptions {
  /** Give up on a file after this long, ms. Default 15 000. */
  timeoutMs?: number;
  /** Called as files arrive, for a progress bar. */
  onProgress?: (progress: { file: string; loaded: number; total: number }) => void;
}

/**
 * A scene resolver for browsers: fetches the manifest from the server (`base` is where
 * `sceneRoutes` is mounted, e.g. `/sim`), then every file by its content hash — which the browser's
 * HTTP cache keeps, so a scene downloads once — and checks each file's SHA-256. A file that fails
 * to download, arrives corrupt or times out rejects with an error naming it.
 */
export function httpScenes(base: string, options: HttpScenesOptions = {}): SceneResolver {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const root = base.replace(/\/$/, '');
  const get = async (url: string, what: string): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new TelekitError('E_SIM_SCENE', `cannot fetch ${what}: ${(error as Error).message}`, {
        operation: 'loadScene',
        cause: error,
        context: { file: what, url },
      });
    }
    if (!response.ok)
      throw new TelekitError('E_SIM_SCENE', `cannot fetch ${what}: HTTP ${response.status}`, {
        operation: 'loadScene',
        context: { file: what, url },
      });
    return response;
  };
  return async (scene: SceneSpec): Promise<SceneFiles> => {
    if (scene.mjcf !== undefined) return inlineScenes(scene);
    const name = scene.path ?? scene.id;
    const manifest = (await (
      await get(`${root}/scenes/${encodeURIComponent(name)}.json`, `the manifest of scene ${name}`)
    ).json()) as SceneManifest;
    const total = manifest.files.reduce((a, f) => a + f.size, 0);
    let loaded = 0;
    const files = new Map<string, Uint8Array>();
    await Promise.all(
      manifest.files.map(async (file) => {
        const bytes = new Uint8Array(
          await (await get(`${root}/assets/${file.sha256}`, file.name)).arrayBuffer(),
        );
        const digest = await sha256(bytes);
        if (bytes.byteLength !== file.size || (digest !== undefined && digest !== file.sha256))
          throw new TelekitError(
            'E_SIM_SCENE',
            `asset ${file.name} of scene ${name} is corrupt: ${bytes.byteLength} bytes, SHA-256 ${digest?.slice(0, 12) ?? 'unchecked'}…; expected ${file.size} bytes, ${file.sha256.slice(0, 12)}…`,
            { operation: 'loadScene', context: { file: file.name } },
          );
        files.set(file.name, bytes);
        loaded += bytes.byteLength;
        options.onProgress?.({ file: file.name, loaded, total });
      }),
    );
    return { main: manifest.main, files };
  };
}

/** The hex SHA-256 of `bytes`; `undefined` outside a secure context (plain HTTP to a LAN address), where only sizes are checked. */
async function sha256(bytes: Uint8Array): Promise<string | undefined> {
  if (!globalThis.crypto?.subtle) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
