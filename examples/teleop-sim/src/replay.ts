import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { type Gateway, GatewayToken, gateway } from '@telekit/gateway';
import { type Replay, ReplayToken, replayPlugins } from '@telekit/recorder';
import { webPage } from '@telekit/ui-widgets/server';

/** Options of {@link startTeleopReplay}. */
export interface TeleopReplayOptions {
  /** The recording (`--record DIR` wrote it). */
  file: string;
  /** Playback speed: 1 (default) is real time. */
  speed?: number;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  logger?: Logger;
}

/** A recording served with the demo's page. */
export interface TeleopReplay {
  readonly app: App;
  readonly gateway: Gateway;
  /** The page, for anyone: everyone watches. */
  readonly url: string;
  /** Pause, seek, speed. */
  readonly replay: Replay;
  close(): Promise<void>;
}

/**
 * The demo's page over a recording, as `telekit replay FILE.mcap` serves one (`@telekit/recorder`'s
 * `replay()` behind a gateway) with the demo's page instead of a static folder: the recorded
 * telemetry plays through the gateway as if it were live, and the page's widgets show it unchanged;
 * the recorded camera is served through the media plugin as the live one was (copied, not re-encoded),
 * so the page's camera viewer shows it.
 * Read-only: every client is a viewer, so a command is refused and the lease never granted. The
 * page runs in server mode (its 3D view draws the recorded bodies; it simulates nothing itself).
 */
export async function startTeleopReplay(options: TeleopReplayOptions): Promise<TeleopReplay> {
  const page = await webPage({ dir: new URL('./web/', import.meta.url), external: ['module', 'node:*'] });
  const app = createApp({
    name: 'teleop-sim-replay',
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      // The recorded telemetry, and the recorded camera served as the live one was (WebRTC and HLS).
      ...(await replayPlugins(options.file, { speed: options.speed ?? 1 })),
      gateway({
        // Anyone, as a viewer: a token, if the page has one, only names the viewer.
        auth: async (t) => ({ id: t ? `viewer-${t.slice(0, 48)}` : 'viewer', role: 'viewer' }),
        port: options.port ?? 8080,
        host: options.host ?? '127.0.0.1',
        routes: (req, res) => {
          // The page simulates nothing over a replay: it shows what was recorded (server mode).
          if ((req.url ?? '').split('?')[0] !== '/sim/config.json') return page.routes(req, res);
          res
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(JSON.stringify({ scene: 'replay', mode: 'server' }));
          return true;
        },
      }),
    ],
  });
  await app.start();
  const g = app.resolve(GatewayToken);
  return { app, gateway: g, url: `${g.url}/`, replay: app.resolve(ReplayToken), close: () => app.stop() };
}
