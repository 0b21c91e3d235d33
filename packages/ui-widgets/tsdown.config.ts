import { packageBuild } from '../../tsdown.shared.ts';

// One entry per element, so a page imports only the widgets it shows (and their libraries).
const widgets = [
  'base',
  'camera-viewer',
  'teleop-pad',
  'link-health',
  'telemetry-plot',
  'estop',
  'sim-view',
  'theme-toggle',
  'recorder-widget',
];

export default packageBuild({
  index: 'src/index.ts',
  ...Object.fromEntries(widgets.map((w) => [w, `src/${w}.ts`])),
  'mujoco-scene': 'src/mujoco-scene.ts',
  server: 'src/server/index.ts',
});
