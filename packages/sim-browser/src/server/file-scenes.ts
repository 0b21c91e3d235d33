import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { TelekitError } from '@telekit/core';
import type { SceneSpec } from '@telekit/core/contracts';
import { inlineScenes, type SceneFiles, type SceneResolver } from '../scene.js';

/** Largest scene file read, bytes. */
const MAX_FILE_BYTES = 64 << 20;

const decoder = new TextDecoder();

/**
 * The files a scene needs, read from disk: the MJCF, the files it `<include>`s and the assets it
 * names (`file="…"`, under the compiler's `meshdir`, `texturedir` or `assetdir`). Nothing outside
 * the main file's directory is read.
 */
export async function readSceneFiles(mainPath: string): Promise<SceneFiles> {
  const root = dirname(resolve(mainPath));
  const main = basename(mainPath);
  const files = new Map<string, Uint8Array>();
  const read = async (name: string, from: string) => {
    const path = resolve(root, name);
    const rel = relative(root, path);
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new TelekitError('E_SIM_SCENE', `${from} names ${name}, outside the scene's directory`, {
        operation: 'loadScene',
        context: { file: from },
      });
    try {
      const bytes = new Uint8Array(await readFile(path));
      if (bytes.byteLength > MAX_FILE_BYTES)
        throw new TelekitError('E_SIM_SCENE', `${name} is larger than ${MAX_FILE_BYTES} bytes`, {
          operation: 'loadScene',
        });
      return bytes;
    } catch (error) {
      if (error instanceof TelekitError) throw error;
      throw new TelekitError('E_SIM_SCENE', `cannot read ${name} (named by ${from})`, {
        operation: 'loadScene',
        cause: error,
        context: { file: name },
      });
    }
  };
  const visit = async (name: string, from: string) => {
    const key = normalize(name).split(sep).join('/');
    if (files.has(key)) return;
    const bytes = await read(key, from);
    files.set(key, bytes);
    if (!key.endsWith('.xml')) return;
    const xml = decoder.decode(bytes);
    const dirs = compilerDirs(xml);
    for (const m of xml.matchAll(/<(\w+)\b[^>]*?\bfile\s*=\s*"([^"]+)"/g)) {
      const [, element = '', file = ''] = m;
      const dir =
        element === 'include' || element === 'model'
          ? ''
          : element === 'mesh' || element === 'hfield' || element === 'skin'
            ? dirs.mesh
            : element === 'texture'
              ? dirs.texture
              : dirs.asset;
      await visit(join(dirname(key), dir, file), key);
    }
  };
  await visit(main, main);
  return { main, files };
}

function compilerDirs(xml: string): { mesh: string; texture: string; asset: string } {
  const compiler = /<compiler\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(compiler)?.[1];
  const asset = attr('assetdir') ?? '';
  return { asset, mesh: attr('meshdir') ?? asset, texture: attr('texturedir') ?? asset };
}

/**
 * A scene resolver for Node: scene names mapped to MJCF files (for instance the sidecar's
 * `bundledScenes`), and any other `path` read as a file; inline MJCF as it is.
 *
 * @example
 * ```ts
 * import { wasmSimulator } from '@telekit/sim-browser';
 * import { fileScenes } from '@telekit/sim-browser/server';
 * import { bundledScenes } from '@telekit/sim-genesis';
 * const sim = wasmSimulator({ scenes: fileScenes(bundledScenes) });
 * await sim.loadScene({ id: 'diff-drive', path: 'diff-drive' });
 * ```
 */
export function fileScenes(named: Readonly<Record<string, string>> = {}): SceneResolver {
  return async (scene: SceneSpec) => {
    if (scene.mjcf !== undefined) return inlineScenes(scene);
    const key = scene.path ?? scene.id;
    const path = named[key] ?? key;
    if (!Object.hasOwn(named, key) && !path.endsWith('.xml'))
      throw new TelekitError(
        'E_SIM_SCENE',
        `cannot load ${key}: no such scene (known: ${Object.keys(named).join(', ') || 'none'}) and not an .xml path`,
        { operation: 'loadScene' },
      );
    try {
      return await readSceneFiles(path);
    } catch (error) {
      if (error instanceof TelekitError && !error.message.includes(key))
        throw new TelekitError('E_SIM_SCENE', `cannot load ${key}: ${error.message}`, {
          operation: 'loadScene',
          cause: error,
        });
      throw error;
    }
  };
}
