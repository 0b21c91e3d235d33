/**
 * The server's side of browser simulation (Node only): scene files from disk, the HTTP routes that
 * give them to browsers, and the plugin that makes the app's simulator the authority.
 *
 * @module
 */
export { authoritySnapshot, PAGE_ENGINE, type PoseSource } from './authority-snapshot.js';
export {
  type BrowserSimConfig,
  type BrowserSimRoutesOptions,
  browserSimRoutes,
} from './browser-sim-routes.js';
export { fileScenes, readSceneFiles } from './file-scenes.js';
export { type SceneRoutesOptions, sceneRoutes } from './scene-routes.js';
export { type SimAuthorityOptions, simAuthority } from './sim-authority.js';
