import { packageBuild } from '../../tsdown.shared.ts';

// Node only: the endpoint runs on the gateway's HTTP server (ws), beside the media plugin.
export default packageBuild({ index: 'src/index.ts' }, 'node');
