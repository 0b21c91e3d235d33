export {
  cameraSource,
  type GenesisSimOptions,
  genesisSim,
  type TelemetryRates,
} from './genesis-sim-plugin.js';
export { bundledScenes } from './scenes.js';
export {
  SIDECAR_PROTOCOL,
  SidecarConnection,
  type SidecarConnectOptions,
  type SidecarErrorInfo,
  type SidecarEvent,
} from './sidecar-connection.js';
export {
  type FrameTiming,
  PERF_WINDOW_MS,
  type Percentiles,
  type SidecarCameraPerf,
  type SidecarCpu,
  type SidecarPerf,
} from './sidecar-perf.js';
export {
  type Backend,
  type CameraOptions,
  type DeadmanOptions,
  findPython,
  type SidecarActuation,
  type SidecarHealth,
  type SidecarProgress,
  type SidecarSimulator,
  type SidecarSimulatorOptions,
  type SidecarState,
  type SidecarStats,
  sidecarSimulator,
} from './sidecar-simulator.js';
