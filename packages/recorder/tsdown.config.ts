import { packageBuild } from '../../tsdown.shared.ts';

// Node only: the recorder writes files (node:fs) beside the app's other server plugins.
// `cli` is the entry of the telekit command (bin/telekit.js); `recorder-worker` is the recorder's
// writer thread, loaded by the recorder beside its own module (dist/recorder-worker.js).
export default packageBuild(
  { index: 'src/index.ts', cli: 'src/cli.ts', 'recorder-worker': 'src/recorder-worker.ts' },
  'node',
);
