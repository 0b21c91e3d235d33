/** A classic roslibjs page driving Telekit's simulated robot through the rosbridge endpoint. */
import { parseArgs } from 'node:util';
import { consoleLogger } from '@telekit/core';
import { haltOnCrash } from '@telekit/core/node';
import { startRoslibUi } from './app.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.TELEKIT_PORT ?? '8080' },
    host: { type: 'string', default: process.env.TELEKIT_HOST ?? '127.0.0.1' },
    'no-auth': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: expected 0–65535, got ${values.port}`);
  process.exit(2);
}
const ui = await startRoslibUi({
  port,
  host: values.host,
  auth: !values['no-auth'],
  logger: consoleLogger(),
});
haltOnCrash(ui.app);
console.log(`roslibjs page: ${ui.operatorUrl}`);
console.log(
  `rosbridge:     ${ui.gateway.url.replace(/^http/, 'ws')}/rosbridge (roslib's Ros({ url }); ?token= when auth is on)`,
);
const stop = () => void ui.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
