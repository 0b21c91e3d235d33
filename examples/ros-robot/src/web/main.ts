// The operator's page: one gateway client bound to every widget. `?token=` is the operator's token.
import { gatewayClient } from '@telekit/gateway/client';
import { bindClient } from '@telekit/ui-widgets';

const token = new URLSearchParams(location.search).get('token') ?? undefined;
const client = gatewayClient({ url: location.origin, ...(token ? { token } : {}) });
const camera = document.querySelector('telekit-camera-viewer');
if (camera && token) camera.token = token;
bindClient(client);
await client.connect();
