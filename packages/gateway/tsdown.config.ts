import { packageBuild } from '../../tsdown.shared.ts';

export default packageBuild(
  { index: 'src/index.ts', 'client/index': 'src/client/index.ts', 'testing/index': 'src/testing/index.ts' },
  'node',
);
