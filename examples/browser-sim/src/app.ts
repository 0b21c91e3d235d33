import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { defaultAccessList, type Gateway, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import { type EncoderName, nvencMedia } from '@telekit/media-nvenc';
import { type SimMode, SimTopics } from '@telekit/sim-browser';
import { sceneRoutes, simAuthority } from '@telekit/sim-browser/server';
import { bundledScenes, genesisSim } from '@telekit/sim-genesis';
import { webPage } from '@telekit/ui-widgets/server';

/** Options of {@link startBrowserSim}. */
export interface BrowserSimOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where pages simulate: `auto` (default) decides per browser; a page's `?sim=` overrides it. */
  simMode?: SimMode;
  /** Authority snapshots per second. Default 10. */
  snapshotHz?: number;
  /** Video encoder for server mode. Default `auto`. */
  encoder?: EncoderName;
  /** Check tokens (default true). */
  auth?: boolean;
  logger?: Logger;
}

/** A running example. */
export interface BrowserSim {
  readonly app: App;
  readonly gateway: Gateway;
  /** The operator's page (with a token when auth is on). */
  readonly operatorUrl: string;
  close(): Promise<void>;
}

const SCENE = 'diff-drive';

/**
 * The server sidecar runs the scene as the authority and streams its camera; pages load the same
 * MJCF over HTTP, simulate it in WebAssembly ahead of the server, and sync to its snapshots — or,
 * where they cannot, show the video instead.
 */
export async function startBrowserSim(options: BrowserSimOptions = {}): Promise<BrowserSim> {
  const secret = randomBytes(32).toString('base64url');
  const auth = options.auth ?? true;
  // The engine's Node-only branches (it reads its .wasm from disk there) are never taken in a page.
  const page = await webPage({ dir: new URL('./web/', import.meta.url), external: ['module', 'node:*'] });
  const wasm = readFileSync(createRequire(import.meta.url).resolve('@mujoco/mujoco/mujoco.wasm'));
  const scenes = sceneRoutes({ scenes: bundledScenes });
  const config = JSON.stringify({ simMode: options.simMode ?? 'auto', scene: SCENE });
  let running: Gateway | undefined;
  const app = createApp({
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      genesisSim({ scene: { id: SCENE }, camera: { camera: 'overview', width: 640, height: 480, fps: 30 } }),
      simAuthority({ rateHz: options.snapshotHz ?? 10 }),
      nvencMedia({
        streams: [
          {
            id: 'sim-camera',
            label: 'Simulator camera',
            source: 'sim-camera',
            encoder: options.encoder ?? 'auto',
          },
        ],
      }),
      gateway({
        auth: auth ? jwtVerifier({ secret }) : 'none',
        port: options.port ?? 8080,
        host: options.host ?? '127.0.0.1',
        topics: Object.values(SimTopics),
        // Operators also report their simulator's divergence.
        acl: {
          ...defaultAccessList,
          operator: {
            ...defaultAccessList.operator,
            publish: [...defaultAccessList.operator.publish, SimTopics.divergence.name],
          },
          admin: {
            ...defaultAccessList.admin,
            publish: [...defaultAccessList.admin.publish, SimTopics.divergence.name],
          },
        },
        onListen: (g) => {
          running = g;
        },
        routes: (req, res) => {
          if (page.routes(req, res)) return true;
          const path = (req.url ?? '/').split('?')[0];
          const send = (type: string, body: string | Uint8Array, cache = 'no-cache') => {
            res.writeHead(200, { 'content-type': type, 'cache-control': cache }).end(body);
            return true;
          };
          if (path === '/config.json') return send('application/json', config);
          if (path === '/mujoco.wasm') return send('application/wasm', wasm, 'public, max-age=86400');
          return scenes(req, res);
        },
      }),
    ],
  });
  await app.start();
  const g = running!;
  const operatorUrl = auth
    ? `${g.url}/?token=${await signToken({ sub: 'operator', role: 'operator' }, { secret, expiresIn: '12h' })}`
    : `${g.url}/`;
  return { app, gateway: g, operatorUrl, close: () => app.stop() };
}
