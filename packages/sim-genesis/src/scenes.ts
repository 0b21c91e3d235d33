import { fileURLToPath } from 'node:url';

/**
 * The MJCF files of the scenes the sidecar bundles, by scene name: the same files a browser
 * simulator loads, so both sides simulate one model.
 *
 * @example
 * ```ts
 * import { bundledScenes } from '@telekit/sim-genesis';
 * bundledScenes['diff-drive']; // …/python/telekit_sim/scenes/diff_drive.xml
 * ```
 */
export const bundledScenes: Readonly<Record<'diff-drive' | 'arm', string>> = {
  'diff-drive': scene('diff_drive.xml'),
  arm: scene('arm.xml'),
};

function scene(file: string): string {
  return fileURLToPath(new URL(`../python/telekit_sim/scenes/${file}`, import.meta.url));
}
