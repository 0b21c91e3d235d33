import { packageBuild } from '../../tsdown.shared.ts';

// Node: the endpoint serves WebSockets from the gateway's HTTP server.
export default packageBuild({ index: 'src/index.ts' });
