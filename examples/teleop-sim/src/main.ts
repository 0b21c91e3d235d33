/**
 * Telekit's default demo: drive a simulated robot from a browser. `--help` for the flags.
 */
import { parseArgs } from 'node:util';
import { consoleLogger } from '@telekit/core';
import { haltOnCrash } from '@telekit/core/node';
import type { EncoderName } from '@telekit/media-nvenc';
import type { SimMode } from '@telekit/sim-browser';
import { startTeleopSim } from './app.js';
import { formatCheck, runCheck } from './check.js';
import { startTeleopReplay } from './replay.js';

const help = `telekit teleop-sim — drive a simulated robot from a browser

usage: pnpm demo [options]          (or: bash scripts/demo.sh [options])

  --port <n>        port to listen on (env TELEKIT_PORT; default 8080)
  --host <addr>     address to listen on (env TELEKIT_HOST; default 127.0.0.1)
  --scene <id|path> bundled scene or MJCF file (env TELEKIT_SCENE; default diff-drive)
  --backend <name>  mujoco | genesis (env TELEKIT_BACKEND; default mujoco)
  --encoder <name>  auto | h264_nvenc | libx264 (env TELEKIT_ENCODER; default auto)
  --sim-mode <mode> browser | server | auto (env SIM_MODE; default auto): pages also simulate the
                    scene in WebAssembly when they can keep up (commands act there at once, synced to
                    the server's snapshots); a page's ?sim= overrides it
  --record <dir>    record the session to MCAP files in <dir> (env TELEKIT_RECORD): telemetry, every
                    command with its fate, the video; the page's Record button marks episodes
                    (replay one with --replay <file>)
  --replay <file>   serve a recording with this page instead, read-only (everyone watches), at
                    --speed <n> times its pace (default 1)
  --no-auth         let anyone who reaches the port drive (env TELEKIT_AUTH=off); default: tokens
  --check           start Chromium headless, drive forward for 3 s (the video closed in browser
                    mode), open the video, drive again; print the control lane the page drove on
                    (DataChannel, or socket.io and why), the latency budget stage by stage and
                    which goals were met; exit non-zero when the robot did not move or no video arrived
  --help            this text
`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.TELEKIT_PORT },
    host: { type: 'string', default: process.env.TELEKIT_HOST },
    scene: { type: 'string', default: process.env.TELEKIT_SCENE },
    backend: { type: 'string', default: process.env.TELEKIT_BACKEND },
    encoder: { type: 'string', default: process.env.TELEKIT_ENCODER },
    'sim-mode': { type: 'string', default: process.env.SIM_MODE },
    record: { type: 'string', default: process.env.TELEKIT_RECORD },
    replay: { type: 'string' },
    speed: { type: 'string' },
    'no-auth': { type: 'boolean', default: process.env.TELEKIT_AUTH === 'off' },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(help);
  process.exit(0);
}
const fail = (message: string) => {
  console.error(`teleop-sim: ${message}\n\n${help}`);
  process.exit(2);
};
const port = values.port === undefined ? (values.check ? 0 : 8080) : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected 0–65535, got ${values.port}`);
if (values.backend && !['mujoco', 'genesis'].includes(values.backend))
  fail(`--backend: expected mujoco or genesis, got ${values.backend}`);
const encoders = ['auto', 'h264_nvenc', 'libx264'];
if (values.encoder && !encoders.includes(values.encoder))
  fail(`--encoder: expected one of ${encoders.join(', ')}, got ${values.encoder}`);
const simMode = values['sim-mode'] ?? 'auto';
if (!['browser', 'server', 'auto'].includes(simMode))
  fail(`--sim-mode (SIM_MODE): expected browser, server or auto, got ${simMode}`);

if (values.replay) {
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed))
    fail(`--speed: expected a number above 0, got ${values.speed}`);
  const r = await startTeleopReplay({
    file: values.replay,
    speed,
    port,
    ...(values.host ? { host: values.host } : {}),
    logger: consoleLogger({ level: 'warn' }),
  });
  console.log(`telekit teleop-sim: replaying ${values.replay} at ${speed}×, read-only\n\n  page: ${r.url}\n`);
  void r.replay.ended.then(() => console.log('  the recording ended (Ctrl-C stops)'));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await r.close();
  process.exit(0);
}

console.log('telekit teleop-sim: starting the simulator, the encoder and the gateway…');
const demo = await startTeleopSim({
  port,
  ...(values.host ? { host: values.host } : {}),
  ...(values.scene ? { scene: values.scene } : {}),
  ...(values.backend ? { backend: values.backend as 'mujoco' | 'genesis' } : {}),
  ...(values.encoder ? { encoder: values.encoder as EncoderName } : {}),
  auth: !values['no-auth'],
  simMode: simMode as SimMode,
  ...(values.record ? { record: values.record } : {}),
  logger: consoleLogger({ level: 'warn' }),
});
// A crash stops what moves before the process goes (its children then go with it).
haltOnCrash(demo.app);
const stop = async (code: number) => {
  await demo.close().catch(() => undefined);
  process.exit(code);
};
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

// Genesis warms up for minutes the first time (its kernels compile): say how far it is.
const ready = demo.simulatorReady((line) => console.log(`  simulator: ${line}`));
void ready.then(
  () => console.log('  simulator: ready'),
  () => undefined,
);

if (values.check) {
  await ready.catch(async (error: unknown) => {
    console.error(`FAILED: ${(error as Error).message}`);
    await stop(1);
  });
  console.log(
    `checking: Chromium drives the robot forward for 3 s (video closed in browser mode), opens the video, drives again, at ${demo.gateway.url}`,
  );
  try {
    const r = await runCheck(demo, { screenshot: 'test-results/teleop-sim-check.png' });
    console.log(formatCheck(r, await demo.status()));
    if (r.problems.length) {
      console.error(`FAILED: ${r.problems.join('; ')}`);
      await stop(1);
    }
    console.log(
      `ok: the robot moved (commands over ${r.lane.lane === 'datachannel' ? 'the DataChannel' : 'socket.io'}) and video arrived (screenshot: test-results/teleop-sim-check.png)`,
    );
    await stop(0);
  } catch (error) {
    console.error(`FAILED: ${(error as Error).message}`);
    await stop(1);
  }
}

console.log(`\n  operator: ${demo.operatorUrl}`);
console.log(`  viewer:   ${demo.viewerUrl}`);
if (demo.recorder) console.log(`  recording: ${demo.recorder.status().file}`);
console.log(`  foxglove: ${demo.foxglove.ws}`);
console.log(`            ${demo.foxglove.foxgloveDesktop}`);
console.log('\nOpen the operator page, press "Request control", then hold W (or the arrows, a gamepad with');
console.log('its left shoulder held, or drag the stick). Ctrl-C stops.\n');
setInterval(() => void demo.status().then((line) => console.log(line)), 5_000);
