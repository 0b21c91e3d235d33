import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { type Gateway, GatewayToken, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import { simulatedRobot } from '@telekit/presets';
import { rosbridgeEndpoint } from '@telekit/rosbridge';
import { webPage } from '@telekit/ui-widgets/server';
import { build } from 'esbuild';

/** Options of {@link startRoslibUi}. */
export interface RoslibUiOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Check tokens (default true): the page passes its `?token=` to rosbridge and to the camera. */
  auth?: boolean;
  logger?: Logger;
}

/** A running example. */
export interface RoslibUi {
  readonly app: App;
  readonly gateway: Gateway;
  /** The page, with an operator's token when auth is on. */
  readonly operatorUrl: string;
  close(): Promise<void>;
}

/**
 * roslib as the classic pages load it: one script defining `window.ROSLIB` (roslib 1.x shipped
 * `roslib.min.js`; roslib 2.x is an ES module, bundled here once at start).
 */
async function roslibScript(): Promise<Buffer> {
  const out = await build({
    // roslib as its own package.json exports it (an ES module), resolved from this example.
    stdin: { contents: "export * from 'roslib';", resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
    bundle: true,
    format: 'iife',
    globalName: 'ROSLIB',
    platform: 'browser',
    minify: true,
    write: false,
    // Node's WebSocket (the `ws` package) is never used in a browser.
    external: ['ws'],
    logLevel: 'silent',
  });
  return Buffer.from(out.outputFiles[0]!.contents);
}

/**
 * The simulated robot (MuJoCo sidecar, its camera as video) behind a gateway with the rosbridge
 * endpoint at `/rosbridge`, and a classic roslibjs page — keys publish `/cmd_vel`, `/odom` shown —
 * unchanged but for its URL, with Telekit's camera widget beside it.
 */
export async function startRoslibUi(options: RoslibUiOptions = {}): Promise<RoslibUi> {
  const secret = randomBytes(32).toString('base64url');
  const auth = options.auth ?? true;
  const [page, roslib] = await Promise.all([
    webPage({ dir: new URL('./web/', import.meta.url) }),
    roslibScript(),
  ]);
  const app = createApp({
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      // The page does not simulate: the server runs the scene and streams its camera.
      ...simulatedRobot({ scene: 'diff-drive', simMode: 'server' }),
      gateway({
        auth: auth ? jwtVerifier({ secret }) : 'none',
        port: options.port ?? 8080,
        host: options.host ?? '127.0.0.1',
        routes: (req, res) => {
          if ((req.url ?? '').split('?')[0] !== '/roslib.js') return page.routes(req, res);
          res.writeHead(200, {
            'content-type': 'text/javascript; charset=utf-8',
            'cache-control': 'no-cache',
          });
          res.end(roslib);
          return true;
        },
      }),
      rosbridgeEndpoint(),
    ],
  });
  await app.start();
  const g = app.resolve(GatewayToken);
  const token = auth
    ? await signToken({ sub: 'operator', role: 'operator' }, { secret, expiresIn: '12h' })
    : '';
  return {
    app,
    gateway: g,
    operatorUrl: auth ? `${g.url}/?token=${token}` : `${g.url}/`,
    close: () => app.stop(),
  };
}
