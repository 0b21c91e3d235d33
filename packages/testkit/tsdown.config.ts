import { packageBuild } from '../../tsdown.shared.ts';

export default packageBuild({
  index: 'src/index.ts',
  'fakes/index': 'src/fakes/index.ts',
  bench: 'src/bench.ts',
  browser: 'src/browser.ts',
  media: 'src/media.ts',
});
