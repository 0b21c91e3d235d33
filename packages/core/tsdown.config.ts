import { packageBuild } from '../../tsdown.shared.ts';

// One entry per `exports` subpath (see package.json and the README's table).
export default packageBuild({
  index: 'src/index.ts',
  'contracts/index': 'src/contracts/index.ts',
  'host/index': 'src/host/index.ts',
  'media/index': 'src/media/index.ts',
  'node/index': 'src/node/index.ts',
  'safety/index': 'src/safety/index.ts',
  'schemas/index': 'src/schemas/index.ts',
  'transport/index': 'src/transport/index.ts',
});
