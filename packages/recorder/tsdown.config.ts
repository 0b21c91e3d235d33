import { packageBuild } from '../../tsdown.shared.ts';

// Node only: the recorder writes files (node:fs) beside the app's other server plugins.
export default packageBuild({ index: 'src/index.ts' }, 'node');
