import { readFileSync } from 'node:fs';
import {
  type Plugin,
  SimulatorToken,
  type Token,
  type Topic,
  Topics,
  TransportToken,
  token,
} from '@telekit/core';
import { GatewayToken } from '@telekit/gateway';
import type { Observable } from 'rxjs';
import { WebSocketServer } from 'ws';
import { ChannelHub } from './channel-hub.js';
import { channelSpecs } from './channels.js';
import { ClientPublisher } from './client-publisher.js';
import type { FoxgloveConnection } from './foxglove-connection.js';
import { type Admission, admit } from './foxglove-upgrade.js';
import { foxgloveUrls } from './foxglove-urls.js';
import { sceneShapes } from './scene-shapes.js';
import { SimFeed } from './sim-feed.js';
import { SUBPROTOCOLS } from './wire.js';

/**
 * What the endpoint needs of the media plugin's access-unit tap (`@telekit/media-nvenc`'s
 * `AccessUnitTap`): the same token key, so this package does not depend on the media package.
 */
export interface VideoAccessUnits {
  streams(): readonly { id: string; width: number; height: number }[];
  accessUnits$(
    stream: string,
    who: string,
  ): Observable<{ data: Uint8Array; keyframe: boolean; receivedAt: number }>;
}

/** `@telekit/media-nvenc`'s `AccessUnitTapToken`, by its key. */
export const VideoAccessUnitsToken: Token<VideoAccessUnits> = token<VideoAccessUnits>(
  '@telekit/media-nvenc/AccessUnitTap',
);

/** Options of {@link foxglove}. */
export interface FoxgloveOptions {
  /** The upgrade path on the gateway's HTTP server. Default `/foxglove`. */
  path?: string;
  /** The server's name in `serverInfo`. Default `telekit`. */
  name?: string;
  /** The app's own telemetry topics to advertise besides core's built-in ones. */
  topics?: readonly Topic[];
  /** The robot base's frame, child of the pose's frame in `/tf`. Default `base_link`. */
  baseFrame?: string;
  /**
   * The scene's MJCF (its text, or a file's path), for the shapes `/scene` draws: boxes, spheres,
   * cylinders and planes of each body (`bundledScenes['diff-drive']` from `@telekit/sim-genesis` for
   * the demo). Without it, each body is a small cube where it is.
   */
  scene?: { mjcf: string } | { path: string };
  /**
   * Client topics taken as gateway topics. Default `{ '/cmd_vel': '/controller/twist' }`: the
   * Teleop panel's default topic drives the base.
   */
  aliases?: Readonly<Record<string, string>>;
  /**
   * The time base: `sim` (the simulator's time from `/telemetry/sim_state`, with the `time`
   * capability), `wall`, or `auto` (default): `sim` when the app runs a simulator.
   */
  time?: 'auto' | 'sim' | 'wall';
}

/** What `health()` reports in `data`. */
export interface FoxgloveHealthData {
  clients: number;
  /** Channels with a running source (someone subscribed). */
  open: string[];
}

const BUILTIN_TELEMETRY: readonly Topic[] = Object.values(Topics).filter((t) => t.lane === 'telemetry');

/**
 * A Foxglove WebSocket endpoint on the gateway: Foxglove and Lichtblick open the app at
 * `ws://<gateway>/foxglove?token=<token>` with no extra bridge, under the same tokens, allow-lists,
 * rates and safety chain as the socket.io lanes (it enters through `gateway.door()`).
 *
 * - Subprotocols `foxglove.sdk.v1` and `foxglove.websocket.v1` (whichever the client offers).
 * - The token in the query (`?token=`) or `Authorization: Bearer`; none or a bad one → HTTP 401
 *   before any data.
 * - Channels (JSON, JSON Schema): every telemetry topic with core's published schema; `/tf`
 *   (`foxglove.FrameTransform`), `/pose` (`foxglove.PoseInFrame`), `/joint_states`
 *   (`foxglove.JointStates`), `/scene` (`foxglove.SceneUpdate`), `/diagnostics/log`
 *   (`foxglove.Log`); `/video/<stream>` (`foxglove.CompressedVideo`, H.264 Annex B, one picture per
 *   message) from the media plugin's encoder when it is there. A channel runs only while watched.
 * - `clientPublish` (JSON): through the gateway's command path; refusals come back as `status`.
 * - `time` with simulated time when the app runs a simulator; `status` for the e-stop and a
 *   simulator restart.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway, jwtVerifier } from '@telekit/gateway';
 * import { foxglove } from '@telekit/foxglove';
 * const app = createApp({ plugins: [inProcess(), gateway({ auth: jwtVerifier({ secret }) }), foxglove()] });
 * await app.start(); // logs the URL to open in Foxglove
 * ```
 */
export function foxglove(options: FoxgloveOptions = {}): Plugin {
  const path = options.path ?? '/foxglove';
  const connections = new Set<FoxgloveConnection>();
  let hub: ChannelHub | undefined;
  return {
    name: '@telekit/foxglove',
    kind: 'endpoint',
    requires: [GatewayToken, TransportToken],
    optional: [SimulatorToken, VideoAccessUnitsToken],
    setup(ctx) {
      const gateway = ctx.resolve(GatewayToken);
      const transport = ctx.resolve(TransportToken);
      const video = ctx.tryResolve(VideoAccessUnitsToken);
      const simulated =
        options.time === 'sim' || (options.time !== 'wall' && ctx.tryResolve(SimulatorToken) !== undefined);
      const extra = options.topics ?? [];
      if (extra.length) gateway.addTopics(extra);

      const sim = new SimFeed(transport, ctx.clock, simulated, connections);

      const h = new ChannelHub(
        channelSpecs({
          transport,
          telemetry: [...BUILTIN_TELEMETRY, ...extra.filter((t) => t.lane === 'telemetry')],
          time: sim.time,
          baseFrame: options.baseFrame ?? 'base_link',
          ...(options.scene
            ? {
                shapes: sceneShapes(
                  'mjcf' in options.scene ? options.scene.mjcf : readFileSync(options.scene.path, 'utf8'),
                ),
              }
            : {}),
          ...(video
            ? {
                video: {
                  streams: video.streams(),
                  units$: (stream: string) => video.accessUnits$(stream, 'foxglove'),
                },
              }
            : {}),
        }),
        ctx.logger,
      );
      hub = h;
      const publisher = new ClientPublisher(options.aliases ?? { '/cmd_vel': Topics.twist.name }, ctx.clock);
      const sessionId = `${Date.now().toString(36)}`;
      const serverInfo = {
        op: 'serverInfo',
        name: options.name ?? 'telekit',
        capabilities: ['clientPublish', ...(simulated ? ['time'] : [])],
        supportedEncodings: ['json'],
        metadata: { 'telekit.protocol': '1' },
        sessionId,
      };

      const wss = new WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        // Frames past the gateway's limit are refused with a status; far past it, ws closes (1009).
        maxPayload: 1_048_576,
        handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
      });

      const admission: Admission = {
        gateway,
        wss,
        logger: ctx.logger,
        connections,
        context: { hub: h, publisher },
        hello(c) {
          c.sendText(serverInfo);
          c.sendText({ op: 'advertise', channels: h.advertised() });
        },
        busy: () => sim.follow(),
        idle: () => sim.unfollow(),
      };

      const removeUpgrade = gateway.upgrade(path, (req, socket, head) => {
        admit(admission, req, socket, head).catch((error: unknown) => {
          ctx.logger.error('foxglove upgrade failed', { error: String(error) });
          socket.destroy();
        });
      });
      const urls = foxgloveUrls(gateway.url, path);
      ctx.logger.info('foxglove endpoint', { ...urls });

      return () => {
        removeUpgrade();
        for (const c of [...connections]) c.hangUp();
        connections.clear();
        sim.unfollow();
        h.close();
        wss.close();
      };
    },
    health() {
      if (!hub) return { status: 'down', detail: 'not started' };
      const data: FoxgloveHealthData = { clients: connections.size, open: hub.open };
      return { status: 'ok', data: data as unknown as Record<string, unknown> };
    },
  };
}
