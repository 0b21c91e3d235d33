// A driving page: camera viewer, teleop pad and link health, each imported by itself.
import { gatewayClient } from '@telekit/gateway/client';
import { bindClient } from '@telekit/ui-widgets/base';
import '@telekit/ui-widgets/camera-viewer';
import '@telekit/ui-widgets/link-health';
import '@telekit/ui-widgets/teleop-pad';

const client = gatewayClient({ url: location.origin });
bindClient(client);
await client.connect();
