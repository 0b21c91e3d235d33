// The page as every page was before widgets could be imported one by one: the whole package.
import { gatewayClient } from '@telekit/gateway/client';
import { bindClient } from '@telekit/ui-widgets';

const client = gatewayClient({ url: location.origin });
bindClient(client);
await client.connect();
