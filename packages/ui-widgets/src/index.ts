/**
 * Telekit's web components. Importing this module defines every element; set each one's `client`
 * (a `gatewayClient` from `@telekit/gateway/client`) or call {@link bindClient} once for the page.
 * A page that needs only some of them imports those one by one — `@telekit/ui-widgets/camera-viewer`,
 * `/teleop-pad`, `/link-health`, `/telemetry-plot`, `/estop`, `/sim-view`, `/theme-toggle`,
 * `/recorder-widget` (each defines its element)
 * and `/base` ({@link bindClient}) — and ships neither three.js nor uPlot unless it asks for them.
 *
 * @example
 * ```ts
 * import { gatewayClient } from '@telekit/gateway/client';
 * import { bindClient } from '@telekit/ui-widgets';
 * const client = gatewayClient({ url: location.origin, token });
 * await client.connect();
 * bindClient(client); // every <telekit-*> on the page
 * ```
 *
 * @module
 */
export { bindClient, defineElement, TelekitWidget } from './base.js';
export { type CameraViewerStats, TelekitCameraViewer } from './camera-viewer.js';
export { TelekitEStop } from './estop.js';
export {
  layoutWaterfall,
  STAGE_LABELS,
  type Waterfall,
  type WaterfallRow,
} from './latency-waterfall.js';
export { TelekitLinkHealth } from './link-health.js';
export {
  buildMujocoScene,
  type MujocoBodyPose,
  type MujocoGeomType,
  type MujocoModelLike,
  type MujocoNumbers,
  type MujocoScene,
  type MujocoSceneDescription,
  type MujocoSceneOptions,
} from './mujoco-scene.js';
export { type RecorderWidgetStatus, TelekitRecorder } from './recorder-widget.js';
export {
  RENDER_LEVELS,
  RenderGovernor,
  type RenderGovernorOptions,
  type RenderLevel,
  type RenderState,
} from './render-governor.js';
export { type BodyPose, type SimViewStats, TelekitSimView } from './sim-view.js';
export { StampReader } from './stamp-reader.js';
export { TelekitTelemetryPlot } from './telemetry-plot.js';
export {
  type Cancel,
  DRIVE_KEYS,
  type DriveCommand,
  GAMEPAD_DEADZONE,
  type GamepadLike,
  type InputState,
  TeleopInput,
  type TeleopInputOptions,
} from './teleop-input.js';
export { TelekitTeleopPad } from './teleop-pad.js';
export { theme } from './theme.js';
export {
  type ThemeProperty,
  type ThemePropertyName,
  themeDeclarations,
  themeProperties,
  themeSizes,
} from './theme-properties.js';
export { TelekitThemeToggle, type ThemeName } from './theme-toggle.js';
export {
  type MediaRequester,
  type Percentiles as VideoPercentiles,
  type PresentedFrame,
  type ServerFrame,
  VIDEO_STAGES,
  type VideoBudget,
  type VideoPlayers,
  type VideoSession,
  type VideoStage,
  type VideoStageFigures,
  type VideoStats,
  VideoWatch,
  type VideoWatchOptions,
} from './video-watch.js';
