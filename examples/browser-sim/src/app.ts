import { randomBytes } from 'node:crypto';
import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { type Gateway, GatewayToken, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import type { EncoderName } from '@telekit/media-nvenc';
import { simulatedRobot } from '@telekit/presets';
import type { SimMode } from '@telekit/sim-browser';
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
  const app = createApp({
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      ...simulatedRobot({
        scene: 'diff-drive',
        simMode: options.simMode ?? 'auto',
        snapshotHz: options.snapshotHz ?? 10,
        encoder: options.encoder ?? 'auto',
      }),
      gateway({
        auth: auth ? jwtVerifier({ secret }) : 'none',
        port: options.port ?? 8080,
        host: options.host ?? '127.0.0.1',
        routes: page.routes,
      }),
    ],
  });
  await app.start();
  const g = app.resolve(GatewayToken);
  const operatorUrl = auth
    ? `${g.url}/?token=${await signToken({ sub: 'operator', role: 'operator' }, { secret, expiresIn: '12h' })}`
    : `${g.url}/`;
  return { app, gateway: g, operatorUrl, close: () => app.stop() };
}
