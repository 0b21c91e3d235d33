/**
 * The simulator in the browser: MuJoCo's WebAssembly build behind the core `Simulator` contract,
 * kept honest by the server's snapshots, falling back to server mode by itself.
 *
 * Node-only parts (scene files from disk, HTTP routes, the authority plugin) are in
 * `@telekit/sim-browser/server`.
 *
 * @module
 */
export { AuthoritySync, type AuthoritySyncOptions, type DivergenceReport } from './authority-sync.js';
export {
  BrowserSimulation,
  type BrowserSimulationOptions,
  type SimMode,
  type SimModeState,
} from './browser-simulation.js';
export {
  type EngineOptions,
  loadEngine,
  MUJOCO_VERSION,
  type Mujoco,
  webAssemblySupported,
} from './engine.js';
export { type HttpScenesOptions, httpScenes, type SceneManifest } from './http-scenes.js';
export {
  CrossEngineGuard,
  type CrossEngineGuardOptions,
  followAnyEngine,
  type SceneLayout,
  sceneLayout,
} from './pose-authority.js';
export {
  decodePoseSnapshot,
  isPoseSnapshot,
  POSE_SNAPSHOT_FORMAT,
  type PoseBody,
  type PoseJoint,
  type PoseSnapshot,
} from './pose-snapshot.js';
export { inlineScenes, type SceneFiles, type SceneResolver } from './scene.js';
export {
  Correction,
  MAX_SNAPSHOT_BYTES,
  SimDivergence,
  SimSnapshotMessage,
  SimTopics,
} from './topics.js';
export { type WasmSimulator, type WasmSimulatorOptions, wasmSimulator } from './wasm-simulator.js';
