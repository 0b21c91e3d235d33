import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, createApp, inProcess, type Logger } from '@telekit/core';
import { foxglove, foxgloveUrls } from '@telekit/foxglove';
import {
  type Gateway,
  type GatewayLimits,
  GatewayToken,
  gateway,
  jwtVerifier,
  signToken,
} from '@telekit/gateway';
import type { EncoderName } from '@telekit/media-nvenc';
import { simulatedRobot } from '@telekit/presets';
import { type Recorder, RecorderToken, recorder } from '@telekit/recorder';
import type { SimMode } from '@telekit/sim-browser';
import { bundledScenes } from '@telekit/sim-genesis';
import { webPage } from '@telekit/ui-widgets/server';

/** Options of {@link startTeleopSim}. */
export interface TeleopSimOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A bundled scene (`diff-drive`) or a path to an MJCF file. Default `diff-drive`. */
  scene?: string;
  /** Simulator backend. Default `mujoco` (Genesis where it is installed and wanted). */
  backend?: 'mujoco' | 'genesis';
  /** Video encoder. Default `auto`: NVENC where it works, libx264 otherwise. */
  encoder?: EncoderName;
  /** Check tokens (default true). Off lets anyone on the network drive. */
  auth?: boolean;
  /** The camera. Default 640×480 at 30 fps. */
  camera?: { width: number; height: number; fps: number };
  /**
   * Where pages also simulate (`SIM_MODE`): `auto` (default) runs the scene in the browser too when
   * it can keep up — commands act there at once, synced to the server — `server` only on the server.
   */
  simMode?: SimMode;
  /** The gateway's limits (rates, connections; see `GatewayLimits`), for crowds behind one address. */
  limits?: Partial<GatewayLimits>;
  /**
   * Record the session to MCAP files in this folder (`--record DIR`): every telemetry topic, every
   * command with its fate, the video; episodes started and stopped from the page's recorder widget.
   */
  record?: string;
  logger?: Logger;
}

/** A running demo. */
export interface TeleopSim {
  readonly app: App;
  readonly gateway: Gateway;
  /** The page for an operator (with a token when auth is on). */
  readonly operatorUrl: string;
  /** The page for a viewer, who watches but cannot drive. */
  readonly viewerUrl: string;
  /**
   * The same app in Foxglove or Lichtblick, as an operator: the endpoint's WebSocket URL and the
   * links that open it (import `@telekit/foxglove/layouts/teleop-sim.json` as the layout).
   */
  readonly foxglove: ReturnType<typeof foxgloveUrls>;
  /** The recorder, with `record` set. */
  readonly recorder: Recorder | undefined;
  /** Signs a token for another user (auth on only). */
  token(sub: string, role: 'viewer' | 'operator' | 'admin'): Promise<string>;
  /**
   * Resolves once the simulator has its scene and runs: at once with MuJoCo; with Genesis after its
   * warm-up (building the scene and compiling its kernels: minutes on a CPU with an empty kernel
   * cache), calling `report` with the warm-up's progress as it goes. Rejects if the simulator is
   * closed meanwhile.
   */
  simulatorReady(report?: (line: string) => void): Promise<void>;
  /** One line: sim real-time factor, video fps, viewers, input→actuation p50. */
  status(): Promise<string>;
  close(): Promise<void>;
}

/** One page per widget (`/widgets/<tag>`), each live against the running demo. */
const widgetPages: Record<string, { about: string; markup: string }> = {
  'telekit-camera-viewer': {
    about: 'WebRTC (HLS where WebRTC fails) with fps, bitrate and glass-to-glass latency.',
    markup: '<telekit-camera-viewer stream="sim-camera" style="max-width:640px"></telekit-camera-viewer>',
  },
  'telekit-teleop-pad': {
    about:
      'Keyboard (focus it), a gamepad with its deadman button, or drag the stick. Request control first.',
    markup: '<telekit-link-health></telekit-link-health><telekit-teleop-pad></telekit-teleop-pad>',
  },
  'telekit-telemetry-plot': {
    about: 'Live plots of chosen fields of a telemetry topic.',
    markup:
      '<telekit-telemetry-plot topic="/telemetry/imu" fields="angularVelocity.z,linearAcceleration.x"></telekit-telemetry-plot>',
  },
  'telekit-estop': { about: 'Click to latch; hold to clear.', markup: '<telekit-estop></telekit-estop>' },
  'telekit-link-health': {
    about: 'Round trip, clock offset, input→actuation, drops, the lease.',
    markup: '<telekit-link-health></telekit-link-health>',
  },
  'telekit-sim-view': {
    about: 'The scene bodies from /telemetry/sim_state in three.js.',
    markup: '<telekit-sim-view style="max-width:640px"></telekit-sim-view>',
  },
};

function widgetPage(tag: string, token: string): string | undefined {
  const page = widgetPages[tag];
  if (!page) return undefined;
  const links = Object.keys(widgetPages)
    .map((t) => `<a href="/widgets/${t}${token}">${t}</a>`)
    .join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${tag}</title>
<link rel="stylesheet" href="/telekit.css"><style>body{padding:1em;display:grid;gap:1em}</style></head>
<body><nav>${links}</nav><h1>&lt;${tag}&gt;</h1><p>${page.about}</p>${page.markup}<div id="banner" role="alert"></div>
<script type="module" src="/app.js"></script></body></html>`;
}

/** `/widgets/<tag>`: a page of one widget (the query, with its token, passed on to its links). */
function widgetRoute(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (!path?.startsWith('/widgets/')) return false;
  const query = new URL(req.url ?? '/', 'http://x').search;
  const html = widgetPage(path.slice('/widgets/'.length), query);
  if (!html) return false;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  return true;
}

/** The approximate median of a prom-client histogram, from its buckets. */
function histogramP50(values: { value: number; labels: Record<string, unknown>; metricName?: string }[]) {
  const buckets = values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => ({ le: Number(v.labels.le), n: v.value }));
  const total = buckets.find((b) => !Number.isFinite(b.le))?.n ?? 0;
  if (total === 0) return undefined;
  return buckets.find((b) => b.n >= total / 2)?.le;
}

/**
 * The default demo: gateway + server sim (MuJoCo here) + media (libx264 here, NVENC with a GPU) +
 * a page with every widget.
 */
export async function startTeleopSim(options: TeleopSimOptions = {}): Promise<TeleopSim> {
  const secret = randomBytes(32).toString('base64url');
  const auth = options.auth ?? true;
  // The engine's Node-only branches (it reads its .wasm from disk there) are never taken in a page.
  const page = await webPage({ dir: new URL('./web/', import.meta.url), external: ['module', 'node:*'] });
  const scene = options.scene ?? 'diff-drive';
  // The MJCF a Foxglove client's 3D panel draws the bodies from.
  const sceneFile = scene.endsWith('.xml')
    ? scene
    : (bundledScenes[scene as keyof typeof bundledScenes] ?? scene);
  const app = createApp({
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      inProcess(),
      // The simulator, its camera as video, and the server as the authority of the pages' own simulation.
      ...simulatedRobot({
        scene,
        backend: options.backend ?? 'mujoco',
        camera: options.camera ?? { width: 640, height: 480, fps: 30 },
        encoder: options.encoder ?? 'auto',
        simMode: options.simMode ?? 'auto',
      }),
      gateway({
        auth: auth ? jwtVerifier({ secret }) : 'none',
        port: options.port ?? 8080,
        host: options.host ?? '127.0.0.1',
        ...(options.limits ? { limits: options.limits } : {}),
        routes: (req, res) => page.routes(req, res) || widgetRoute(req, res),
      }),
      // Foxglove and Lichtblick at /foxglove, with the same tokens and safety chain.
      foxglove({ scene: { path: sceneFile } }),
      // The session to MCAP, episodes marked from the page (its <telekit-recorder>).
      ...(options.record ? [recorder({ dir: options.record })] : []),
    ],
  });
  await app.start();
  const g = app.resolve(GatewayToken);
  const token = (sub: string, role: 'viewer' | 'operator' | 'admin', name = sub) =>
    signToken({ sub, role, name }, { secret, expiresIn: '12h' });
  // Each URL is its own principal: whoever opens the operator URL is not whoever opens the viewer's.
  const id = randomBytes(3).toString('hex');
  const operatorUrl = auth
    ? `${g.url}/?token=${await token(`operator-${id}`, 'operator', 'operator')}`
    : `${g.url}/`;
  const viewerUrl = auth ? `${g.url}/?token=${await token(`viewer-${id}`, 'viewer', 'viewer')}` : `${g.url}/`;
  const foxgloveLinks = foxgloveUrls(
    g.url,
    '/foxglove',
    auth ? await token(`foxglove-${id}`, 'operator', 'foxglove') : undefined,
  );

  return {
    app,
    gateway: g,
    operatorUrl,
    viewerUrl,
    foxglove: foxgloveLinks,
    recorder: options.record ? app.resolve(RecorderToken) : undefined,
    token: async (sub, role) => {
      if (!auth) throw new Error('auth is off: no tokens to sign');
      return token(sub, role);
    },
    async simulatorReady(report) {
      let said = '';
      let saidAt = 0;
      for (;;) {
        const sim = (await app.health()).plugins['@telekit/sim-genesis'];
        if (sim?.status === 'ok') return;
        if (!sim || sim.status === 'down')
          throw new Error(`the simulator is ${sim ? `down: ${sim.detail ?? ''}` : 'missing'}`);
        // The step it is at as it changes, and every 15 s how long it has lasted.
        const detail = sim.detail ?? sim.status;
        const step = detail.replace(/ \(\d+ s\)$/, '');
        if (step !== said || performance.now() - saidAt > 15_000) {
          report?.(detail);
          said = step;
          saidAt = performance.now();
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async status() {
      const health = await app.health();
      // What the plugins report in their health: the sidecar its real-time factor and its CPU by
      // part (cores), the media plugin each stream (state, fps, holders, the server's video stages)
      // and the CPU of the encoders, the SFU worker and this Node process.
      type Cores = Record<string, number | undefined>;
      type Stage = { stage: string; p50: number; p99: number };
      const sim = health.plugins['@telekit/sim-genesis']?.data as
        | { realtimeFactor?: number; cpu?: Cores; camera?: { on: boolean } }
        | undefined;
      const media = health.plugins['@telekit/media-nvenc']?.data as
        | (Record<
            string,
            { fps: number; viewers: number; holders?: number; state: string; budget?: { stages: Stage[] } }
          > & { cpu?: Cores })
        | undefined;
      const video = media?.['sim-camera'];
      const p50 = histogramP50((await g.metrics.inputToActuation.get()).values);
      const c = (v: number | undefined) => (v ?? 0).toFixed(2);
      const sidecar = sim?.cpu;
      const server =
        (sidecar?.total ?? 0) + (media?.cpu?.encoder ?? 0) + (media?.cpu?.sfu ?? 0) + (media?.cpu?.node ?? 0);
      const stages = video?.budget?.stages.map((s) => `${s.stage} ${s.p50.toFixed(0)}`).join('/');
      return [
        `sim ×${(sim?.realtimeFactor ?? 0).toFixed(2)} real time`,
        video
          ? `video ${video.fps.toFixed(1)} fps (${video.state}), ${video.viewers} viewer${video.viewers === 1 ? '' : 's'}${
              (video.holders ?? 0) > video.viewers
                ? ` + ${(video.holders ?? 0) - video.viewers} other holder(s)`
                : ''
            }`
          : 'video —',
        sidecar
          ? `server CPU ${c(server)} core: sidecar physics ${c(sidecar.physics)} render ${c(sidecar.render)} rest ${c(
              (sidecar.loop ?? 0) + (sidecar.other ?? 0),
            )}, encoder ${c(media?.cpu?.encoder)}, node ${c(media?.cpu?.node)}, SFU ${c(media?.cpu?.sfu)}`
          : 'server CPU —',
        ...(stages ? [`video stages p50 ${stages} ms`] : []),
        `input→actuation p50 ${p50 === undefined ? '—' : `≤ ${(p50 * 1000).toFixed(0)} ms`}`,
        `clients ${g.clients().length}`,
      ].join(' · ');
    },
    close: () => app.stop(),
  };
}
