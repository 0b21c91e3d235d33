/**
 * The browser simulator example: `pnpm --filter @telekit/example-browser-sim start -- --help`.
 */
import { parseArgs } from 'node:util';
import { consoleLogger } from '@telekit/core';
import { haltOnCrash } from '@telekit/core/node';
import type { SimMode } from '@telekit/sim-browser';
import { startBrowserSim } from './app.js';

const help = `telekit browser-sim — the simulator in the browser, the server as authority

usage: pnpm --filter @telekit/example-browser-sim start [-- options]

  --sim-mode <mode>  browser | server | auto (env SIM_MODE; default auto): where pages simulate;
                     auto runs in the browser when it can keep up and falls back to server mode
                     (video and telemetry) by itself; a page's ?sim= overrides it
  --snapshot-hz <n>  authority snapshots per second (default 10)
  --port <n>         port to listen on (env TELEKIT_PORT; default 8080)
  --host <addr>      address to listen on (env TELEKIT_HOST; default 127.0.0.1)
  --no-auth          let anyone who reaches the port drive (env TELEKIT_AUTH=off)
  --help             this text
`;

const { values } = parseArgs({
  options: {
    'sim-mode': { type: 'string', default: process.env.SIM_MODE },
    'snapshot-hz': { type: 'string' },
    port: { type: 'string', default: process.env.TELEKIT_PORT },
    host: { type: 'string', default: process.env.TELEKIT_HOST },
    'no-auth': { type: 'boolean', default: process.env.TELEKIT_AUTH === 'off' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(help);
  process.exit(0);
}
const fail = (message: string) => {
  console.error(`browser-sim: ${message}\n\n${help}`);
  process.exit(2);
};
const mode = values['sim-mode'] ?? 'auto';
if (!['browser', 'server', 'auto'].includes(mode))
  fail(`--sim-mode (SIM_MODE): expected browser, server or auto, got ${mode}`);
const port = values.port === undefined ? 8080 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected 0–65535, got ${values.port}`);
const hz = values['snapshot-hz'] === undefined ? 10 : Number(values['snapshot-hz']);
if (!(hz > 0 && hz <= 100)) fail(`--snapshot-hz: expected a rate in (0, 100], got ${values['snapshot-hz']}`);

console.log('telekit browser-sim: starting the authority simulator, the encoder and the gateway…');
const demo = await startBrowserSim({
  port,
  simMode: mode as SimMode,
  snapshotHz: hz,
  ...(values.host ? { host: values.host } : {}),
  auth: !values['no-auth'],
  logger: consoleLogger({ level: 'warn' }),
});
// A crash stops what moves before the process goes (its children then go with it).
haltOnCrash(demo.app);
const stop = async () => {
  await demo.close().catch(() => undefined);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
console.log(`\n  operator: ${demo.operatorUrl}   (SIM_MODE=${mode})`);
console.log('\nThe page says where it simulates and why. Request control, then hold W. Ctrl-C stops.\n');
setInterval(() => {
  void demo.app.health().then((h) => {
    const a = h.plugins['@telekit/sim-browser/authority'];
    if (a?.detail) console.log(`authority: ${a.detail}`);
  });
}, 5_000);
