import { packageBuild } from '../../tsdown.shared.ts';

// Node only: the recorder writes files (node:fs) beside the app's other server plugins.
// `cli` is the entry of the telekit command (bin/telekit.js); `recorder-worker` is the recorder's
// writer thread, loaded by the recorder beside its own module (dist/recorder-worker.js);
// `recorder-topics` is `@telekit/recorder/topics`, the browser-safe topics a page's client uses.
export default packageBuild(
  {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'recorder-worker': 'src/recorder-worker.ts',
    'recorder-topics': 'src/recorder-topics.ts',
  },
  'node',
);
