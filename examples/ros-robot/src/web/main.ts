// The operator's page: one gateway client bound to every widget. `?token=` is the operator's token.
import { gatewayClient } from '@telekit/gateway/client';
// One import per widget the page shows: no 3D view here, so no three.js in its bundle.
import { bindClient } from '@telekit/ui-widgets/base';
import '@telekit/ui-widgets/camera-viewer';
import '@telekit/ui-widgets/estop';
import '@telekit/ui-widgets/link-health';
import '@telekit/ui-widgets/telemetry-plot';
import '@telekit/ui-widgets/teleop-pad';
import '@telekit/ui-widgets/theme-toggle';

const token = new URLSearchParams(location.search).get('token') ?? undefined;
const client = gatewayClient({ url: location.origin, ...(token ? { token } : {}) });
const camera = document.querySelector('telekit-camera-viewer');
if (camera && token) camera.token = token;
bindClient(client);
await client.connect();
