import { type App, consoleLogger, createApp, inProcess, type Plugin } from '@telekit/core';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { runExportCli } from './lerobot/export-cli.js';
import { replayPlugins } from './replay-plugins.js';

/** What `telekit replay` takes. */
export interface ReplayServerOptions {
  file: string;
  /** Default 1. */
  speed?: number;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A web app to serve (the demo's page). */
  staticDir?: string;
}

/**
 * A gateway serving a recording as if it were live, read-only: every client is let in as a viewer,
 * so it may watch telemetry and the recorded video (served by `@telekit/media-nvenc` when it is
 * installed, see `replayPlugins`) but publish no command and take no lease.
 */
export async function startReplayServer(
  options: ReplayServerOptions,
  plugins: readonly Plugin[] = [],
): Promise<{ app: App; url: string }> {
  let running: Gateway | undefined;
  const app = createApp({
    name: 'telekit-replay',
    plugins: [
      inProcess(),
      ...(await replayPlugins(options.file, {
        speed: options.speed ?? 1,
        // WebRTC on the address the page is served on (loopback unless a single IPv4 one is given).
        ...(options.host && /^\d+\.\d+\.\d+\.\d+$/.test(options.host) && options.host !== '0.0.0.0'
          ? { media: { listenIp: options.host } }
          : {}),
      })),
      gateway({
        // Anyone, as a viewer: a token, if one is sent, only names the viewer.
        auth: async (t) => ({ id: t ? `viewer-${t.slice(0, 48)}` : 'viewer', role: 'viewer' }),
        port: options.port ?? 0,
        ...(options.host ? { host: options.host } : {}),
        ...(options.staticDir ? { staticDir: options.staticDir } : {}),
      }),
      {
        name: 'telekit-replay-url',
        requires: [GatewayToken],
        setup(ctx) {
          running = ctx.resolve(GatewayToken);
        },
      },
      ...plugins,
    ],
  });
  await app.start();
  return { app, url: running?.url ?? '' };
}

const USAGE = [
  'usage: telekit replay FILE.mcap [--speed N] [--port P] [--host H] [--static DIR]',
  '       telekit export lerobot FILE.mcap… --out DIR [--fps 30] [--preset auto|diff-drive|arm]',
  '              [--state FIELDS] [--action FIELDS] [--mapping FILE.json] [--task TEXT]',
  '              [--camera ID]… [--reencode] [--quiet]',
].join('\n');

/** `telekit replay …` serves the recording until interrupted; `telekit export lerobot …` writes a dataset. The exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'export') return runExportCli(argv.slice(1), USAGE);
  const [command, file, ...rest] = argv;
  if (command !== 'replay' || !file) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const options: ReplayServerOptions = { file };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) {
      process.stderr.write(`${flag} needs a value\n${USAGE}\n`);
      return 2;
    }
    if (flag === '--speed') options.speed = Number(value);
    else if (flag === '--port') options.port = Number(value);
    else if (flag === '--host') options.host = value;
    else if (flag === '--static') options.staticDir = value;
    else {
      process.stderr.write(`unknown option ${flag}\n${USAGE}\n`);
      return 2;
    }
  }
  const { app, url } = await startReplayServer(options, []);
  consoleLogger().info('replay served read-only', { url, file, speed: options.speed ?? 1 });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.stop();
  return 0;
}
