/**
 * The demo app (gateway, MuJoCo sidecar, media, the page) as a process of its
 * own, for the soak: prints `ready <url>` once listening, then answers lines on stdin:
 * `token <sub> <role>` → `token <jwt>`, `stats` → `stats <json>` (the sidecar's own counts and its
 * restarts).
 */
import { createInterface } from 'node:readline';
import { SimulatorToken, silentLogger } from '@telekit/core';
import { haltOnCrash } from '@telekit/core/node';
import type { SidecarSimulator } from '@telekit/sim-genesis';
import { startTeleopSim } from './app.js';

// A hundred clients from one address (this machine): the per-address limits are the crowd's.
const demo = await startTeleopSim({
  port: 0,
  logger: silentLogger,
  simMode: 'server',
  limits: { addressFactor: 200 },
});
haltOnCrash(demo.app);
const sim = demo.app.resolve(SimulatorToken) as SidecarSimulator;

console.log(`ready ${demo.gateway.url}`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const [verb, ...args] = line.trim().split(' ');
  void (async () => {
    if (verb === 'token')
      console.log(`token ${await demo.token(args[0]!, args[1] as 'viewer' | 'operator')}`);
    else if (verb === 'stats')
      console.log(`stats ${JSON.stringify({ ...(await sim.stats()), restarts: sim.restarts })}`);
  })().catch((error: unknown) => console.log(`error ${String(error)}`));
});
process.on('SIGTERM', () => {
  void demo.close().finally(() => process.exit(0));
});
