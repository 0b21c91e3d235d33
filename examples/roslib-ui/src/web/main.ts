// Telekit's side of the page: the camera widget, with its own gateway client (the same token).
import { gatewayClient } from '@telekit/gateway/client';
import { bindClient } from '@telekit/ui-widgets/base';
import '@telekit/ui-widgets/camera-viewer';

const token = new URLSearchParams(location.search).get('token') ?? undefined;
const client = gatewayClient({ url: location.origin, ...(token ? { token } : {}) });
const camera = document.querySelector('telekit-camera-viewer');
if (camera && token) camera.token = token;
bindClient(client);
await client.connect();
