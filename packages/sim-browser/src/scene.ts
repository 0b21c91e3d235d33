/**
 * Scene files: an MJCF document and the assets it names (meshes, textures, included MJCF), as the
 * engine's virtual file system takes them.
 *
 * @module
 */
import { TelekitError } from '@telekit/core';
import type { SceneSpec } from '@telekit/core/contracts';

/** A scene's files, ready for the engine. */
export interface SceneFiles {
  /** The file name of the top MJCF document inside `files`. */
  readonly main: string;
  /** Every file by its name relative to the main document (as the MJCF refers to it). */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** Finds the files of a scene: from inline MJCF, a directory on disk, or the server over HTTP. */
export type SceneResolver = (scene: SceneSpec) => Promise<SceneFiles>;

const encoder = new TextEncoder();

/** Inline MJCF only (`{ id, mjcf }`): the default resolver. Anything else is an error naming it. */
export const inlineScenes: SceneResolver = async (scene) => {
  if (scene.mjcf !== undefined) {
    const main = `${safeName(scene.id)}.xml`;
    return { main, files: new Map([[main, encoder.encode(scene.mjcf)]]) };
  }
  throw new TelekitError(
    'E_SIM_SCENE',
    `cannot load ${scene.path ?? scene.id}: this simulator has no scene resolver for paths; give it \`scenes: httpScenes(url)\` (browser) or \`fileScenes(dirs)\` (Node), or pass the MJCF inline`,
    { operation: 'loadScene' },
  );
};

/** A file name safe to use inside the virtual file system. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_') || 'scene';
}
