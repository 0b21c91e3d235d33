import { randomBytes } from 'node:crypto';
import { type App, createApp, type Logger } from '@telekit/core';
import { type Gateway, GatewayToken, gateway, jwtVerifier, signToken } from '@telekit/gateway';
import { type EncoderName, hlsRoute, nvencMedia } from '@telekit/media-nvenc';
import {
  type DefaultMappingOptions,
  defaultMappings,
  type RclModule,
  type RosImageSourceOptions,
  remap,
  rosTransport,
} from '@telekit/transport-ros';
import { webPage } from '@telekit/ui-widgets/server';

/** Options of {@link startRosRobot}. */
export interface RosRobotOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (use 0.0.0.0 to reach it from other machines). */
  host?: string;
  /** The default mapping's options (TwistStamped, the trajectory topic, …). */
  mapping?: DefaultMappingOptions;
  /** ROS topic names to change, by Telekit topic: `{ '/telemetry/pose': '/wheel/odom' }`. */
  remap?: Readonly<Record<string, string>>;
  /** The camera to stream, or `false` for none. Default `/camera/image_raw`, 640×480 at 30 fps. */
  camera?: Omit<RosImageSourceOptions, 'logger'> | false;
  /** ROS node name. Default `telekit`. */
  nodeName?: string;
  encoder?: EncoderName;
  /** Check tokens (default true). */
  auth?: boolean;
  /** rclnodejs (default, loaded lazily) or a test double. */
  rcl?: RclModule;
  logger?: Logger;
}

/** A running example. */
export interface RosRobot {
  readonly app: App;
  readonly gateway: Gateway;
  readonly operatorUrl: string;
  readonly viewerUrl: string;
  close(): Promise<void>;
}

/**
 * Gateway + ROS transport + video from a ROS camera topic + the widgets: run it next to a robot
 * (on its computer or one on its network, with the same ROS_DOMAIN_ID).
 */
export async function startRosRobot(options: RosRobotOptions = {}): Promise<RosRobot> {
  const secret = randomBytes(32).toString('base64url');
  const auth = options.auth ?? true;
  const page = await webPage({ dir: new URL('./web/', import.meta.url) });
  const camera =
    options.camera === false
      ? undefined
      : (options.camera ?? { topic: '/camera/image_raw', width: 640, height: 480, fps: 30 });
  const app = createApp({
    ...(options.logger ? { logger: options.logger } : {}),
    plugins: [
      rosTransport({
        ...(options.rcl ? { rcl: options.rcl } : {}),
        nodeName: options.nodeName ?? 'telekit',
        mappings: remap(defaultMappings(options.mapping), options.remap ?? {}),
        ...(camera ? { images: [{ stream: 'camera', ...camera }] } : {}),
      }),
      ...(camera
        ? [
            nvencMedia({
              streams: [
                {
                  id: 'camera',
                  label: `ROS ${camera.topic}`,
                  source: 'camera',
                  encoder: options.encoder ?? 'auto',
                },
              ],
            }),
            hlsRoute(),
          ]
        : []),
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
  const url = async (role: 'operator' | 'viewer') =>
    auth
      ? `${g.url}/?token=${await signToken({ sub: role, role }, { secret, expiresIn: '12h' })}`
      : `${g.url}/`;
  return {
    app,
    gateway: g,
    operatorUrl: await url('operator'),
    viewerUrl: await url('viewer'),
    close: () => app.stop(),
  };
}
