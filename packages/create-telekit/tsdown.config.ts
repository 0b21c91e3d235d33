import { packageBuild } from '../../tsdown.shared.ts';

// `cli` is the entry of the create-telekit command (bin/create-telekit.js).
export default packageBuild({ index: 'src/index.ts', cli: 'src/cli.ts' }, 'node');
