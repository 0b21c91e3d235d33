import { packageBuild } from '../../tsdown.shared.ts';

export default packageBuild({
  index: 'src/index.ts',
  server: 'src/server/index.ts',
  policy: 'src/policy.ts',
});
