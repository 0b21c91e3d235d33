import { packageBuild } from '../../tsdown.shared.ts';

// `setup` is the entry of the `telekit-sim` command line (bin/telekit-sim.js), not a public export.
export default packageBuild({ index: 'src/index.ts', setup: 'src/setup.ts' }, 'node');
