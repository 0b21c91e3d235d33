/**
 * Telekit's web components. Importing this module defines the elements; set each one's `client`
 * (a `gatewayClient` from `@telekit/gateway/client`) or call {@link bindClient} once for the page.
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
import { TelekitCameraViewer } from './camera-viewer.js';
import { TelekitEStop } from './estop.js';
import { TelekitLinkHealth } from './link-health.js';
import { TelekitSimView } from './sim-view.js';
import { TelekitTelemetryPlot } from './telemetry-plot.js';
import { TelekitTeleopPad } from './teleop-pad.js';

export { bindClient, TelekitWidget } from './base.js';
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

const elements = {
  'telekit-camera-viewer': TelekitCameraViewer,
  'telekit-teleop-pad': TelekitTeleopPad,
  'telekit-telemetry-plot': TelekitTelemetryPlot,
  'telekit-estop': TelekitEStop,
  'telekit-link-health': TelekitLinkHealth,
  'telekit-sim-view': TelekitSimView,
} as const;

// Defined once, even if two copies of the package end up on a page.
for (const [tag, element] of Object.entries(elements))
  if (!customElements.get(tag)) customElements.define(tag, element);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-camera-viewer': TelekitCameraViewer;
    'telekit-teleop-pad': TelekitTeleopPad;
    'telekit-telemetry-plot': TelekitTelemetryPlot;
    'telekit-estop': TelekitEStop;
    'telekit-link-health': TelekitLinkHealth;
    'telekit-sim-view': TelekitSimView;
  }
}
