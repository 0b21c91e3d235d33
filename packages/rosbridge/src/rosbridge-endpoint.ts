import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Clock, consoleLogger, type Logger, type Plugin, systemClock } from '@telekit/core';
import { type AccessList, allowed, defaultAccessList, type Gateway, GatewayToken } from '@telekit/gateway';
import { defaultMappings, type RosMapping } from '@telekit/transport-ros';
import { WebSocketServer } from 'ws';
import { EndpointHub, type RosbridgeMetrics } from './endpoint-hub.js';
import { mappingByRosName, normaliseName } from './ros-names.js';
import { RosbridgeConnection } from './rosbridge-connection.js';

/** Options of {@link rosbridgeEndpoint} and {@link attachRosbridge}. */
export interface RosbridgeEndpointOptions {
  /** The upgrade path on the gateway's HTTP server. Default `/rosbridge`. */
  path?: string;
  /**
   * Which ROS topic is which Telekit topic: the same lines as `@telekit/transport-ros`
   * (`defaultMappings()` by default: `/cmd_vel`, `/odom`, `/joint_states`, `/imu`, `/battery_state`,
   * `/diagnostics`, the joint trajectory). A ROS topic not in it is refused (`E_ROSBRIDGE_UNMAPPED`).
   */
  mappings?: readonly RosMapping[];
  /**
   * Ask for the control lease on an operator's first command when nobody holds it (rosbridge has no
   * lease op). Default true; false: the client must hold the lease some other way (a Telekit page of
   * the same principal cannot lend it: the lease is per session).
   */
  autoLease?: boolean;
  /**
   * How often the endpoint pings each client, ms: a client that answers none of two pings (its link
   * died without a close) is cut off, and its lease goes. Default 5 000 (socket.io's own pace here).
   */
  keepAliveMs?: number;
  /** Parameters `rosapi/get_param` answers at the start (values as JSON text, as rosapi's). */
  params?: Readonly<Record<string, string>>;
  /** How long a call to a service a client offers may take, ms. Default 10 000. */
  serviceTimeoutMs?: number;
  /**
   * The largest frame the socket reads at all, bytes (above it the socket is closed with 1009);
   * frames between the gateway's `maxPayloadBytes` and this get an `E_PAYLOAD_TOO_LARGE` status.
   * Default 1 MiB.
   */
  maxFrameBytes?: number;
  /**
   * Unmapped ROS topics relayed as they are, by name or prefix (`['/chatter', '/ui/*']`): each is a
   * Telekit telemetry topic `/ros<name>` (the ROS message and its type, under a header), so it goes
   * through the gateway like any other — operators and admins may publish it, everyone subscribe —
   * and reaches the app and the other clients. At most 256 such topics. Default none: an unmapped
   * topic is refused (`E_ROSBRIDGE_UNMAPPED`).
   */
  relay?: readonly string[];
  /** The allow-lists `rosapi/topics` filters its answer by (the gateway enforces its own). Default `defaultAccessList`. */
  acl?: AccessList;
  logger?: Logger;
  clock?: Clock;
}

/** A rosbridge endpoint on a running gateway. */
export interface RosbridgeEndpoint {
  readonly path: string;
  /** The endpoint's own counts (clients, bad frames, telemetry sent and dropped). */
  readonly metrics: Readonly<RosbridgeMetrics>;
  /** Hangs up every client and stops taking upgrades. Safe to call twice. */
  close(): void;
}

/**
 * Serves rosbridge v2 on `gateway` at `path`: plain WebSocket, JSON (or CBOR) frames, for unmodified
 * roslibjs and roslibpy clients. Each client is a session of the gateway (`gateway.door()`): its
 * token comes from the URL (`?token=`) or the `auth` op's `mac`; its commands pass the same
 * allow-lists, rates, conduct and safety chain as the socket.io lanes'.
 *
 * @example
 * ```ts
 * import { inProcessTransport } from '@telekit/core';
 * import { createGateway } from '@telekit/gateway';
 * import { attachRosbridge } from '@telekit/rosbridge';
 * const gateway = await createGateway({ transport: inProcessTransport(), auth: 'none' });
 * const rosbridge = attachRosbridge(gateway);
 * console.log(`${(await gateway.listen(9090)).replace('http', 'ws')}${rosbridge.path}`);
 * ```
 */
export function attachRosbridge(gateway: Gateway, options: RosbridgeEndpointOptions = {}): RosbridgeEndpoint {
  const path = options.path ?? '/rosbridge';
  const log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/rosbridge' } });
  const acl = options.acl ?? defaultAccessList;
  const hub = new EndpointHub({
    lines: mappingByRosName(options.mappings ?? defaultMappings()),
    clock: options.clock ?? systemClock,
    log,
    autoLease: options.autoLease ?? true,
    keepAliveMs: options.keepAliveMs ?? 5_000,
    params: new Map(Object.entries(options.params ?? {}).map(([k, v]) => [k.replace(/^\/+/, ''), v])),
    serviceTimeoutMs: options.serviceTimeoutMs ?? 10_000,
    acl: (role, verb, topic) => allowed(acl[role][verb], topic),
    ...(options.relay?.length
      ? {
          relay: {
            names: options.relay.map((n) => (n.endsWith('*') ? n : normaliseName(n))),
            addTopic: (t) => gateway.addTopics([t]),
          },
        }
      : {}),
  });
  const ungrant = options.relay?.length
    ? [
        gateway.grant(['operator', 'admin'], { publish: ['/ros/*'] }),
        gateway.grant(['viewer', 'operator', 'admin'], { subscribe: ['/ros/*'] }),
      ]
    : [];
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes ?? 1024 * 1024,
    perMessageDeflate: false,
    // rosbridge clients send no subprotocol; one that does is answered without.
    handleProtocols: () => false,
  });
  const remove = gateway.upgrade(path, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let door: ReturnType<Gateway['door']>;
    try {
      door = gateway.door(req.socket.remoteAddress ?? 'unknown');
    } catch (error) {
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${(error as Error).message}\n`,
      );
      return;
    }
    const token = new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      new RosbridgeConnection(ws, hub, door, token);
    });
  });
  let closed = false;
  return {
    path,
    metrics: hub.metrics,
    close() {
      if (closed) return;
      closed = true;
      remove();
      for (const u of ungrant) u();
      hub.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/**
 * The rosbridge endpoint as a plugin: mounted on the gateway's HTTP server (it requires
 * {@link GatewayToken}) at `/rosbridge`. A roslibjs UI points its `ROSLIB.Ros({ url })` at
 * `ws://<gateway>/rosbridge?token=<jwt>` and is otherwise unchanged.
 *
 * @example
 * ```ts
 * import { createApp, inProcess } from '@telekit/core';
 * import { gateway } from '@telekit/gateway';
 * import { rosbridgeEndpoint } from '@telekit/rosbridge';
 * const app = createApp({ plugins: [inProcess(), gateway({ auth: 'none', port: 8080 }), rosbridgeEndpoint()] });
 * await app.start(); // roslib: new Ros({ url: 'ws://127.0.0.1:8080/rosbridge' })
 * ```
 */
export function rosbridgeEndpoint(options: Omit<RosbridgeEndpointOptions, 'logger' | 'clock'> = {}): Plugin {
  let endpoint: RosbridgeEndpoint | undefined;
  return {
    name: '@telekit/rosbridge',
    kind: 'endpoint',
    requires: [GatewayToken],
    setup(ctx) {
      endpoint = attachRosbridge(ctx.resolve(GatewayToken), {
        ...options,
        logger: ctx.logger,
        clock: ctx.clock,
      });
      return () => endpoint?.close();
    },
    health() {
      if (!endpoint) return { status: 'down', detail: 'not started' };
      const m = endpoint.metrics;
      return { status: 'ok', detail: endpoint.path, data: { ...m } };
    },
  };
}
