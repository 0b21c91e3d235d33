import { type Header, type Plugin, TelekitError, type Topic, TransportToken } from '@telekit/core';
import {
  type DefinedTransport,
  defineTransport,
  type Link,
  type ReconnectOptions,
} from '@telekit/core/transport';
import { defaultMappings, type RosMapping, RosMessages } from '@telekit/transport-ros';
import { Ros, Topic as RosTopic, Service } from 'roslib';

/** Options of {@link createRosbridgeTransport}. */
export interface RosbridgeTransportOptions {
  /** The robot's rosbridge_server, e.g. `ws://robot:9090` (a Telekit endpoint: `ws://host:8080/rosbridge?token=…`). */
  url: string;
  /** Which Telekit topic is which ROS topic: the table of `@telekit/transport-ros`. Default `defaultMappings()`. */
  mappings?: readonly RosMapping[];
  /** Reconnection after the link drops (roslib does not reconnect by itself). Default: 250 ms doubling to 5 s, for ever. */
  reconnect?: ReconnectOptions | false;
  /** How long `connect()` waits, ms. Default 10 000. */
  connectTimeoutMs?: number;
}

const isEnvelope = (line: RosMapping) =>
  line.type === 'std_msgs/msg/String' || line.type === 'std_msgs/String';

/**
 * The link of {@link createRosbridgeTransport}: one roslib `Ros` per connection, a roslib `Topic` per
 * mapped topic in use. What arrives is turned into the Telekit message by the mapping line (whole, for
 * `envelope` lines) and handed to the transport, which validates it; what is published is turned into
 * the ROS message by the same line.
 */
function rosbridgeLink(url: string, mappings: readonly RosMapping[]): Link {
  const byTopic = new Map(mappings.map((m) => [m.topic.name, m]));
  let ros: Ros | undefined;
  let events: Parameters<Link['connect']>[0] | undefined;
  const topics = new Map<string, RosTopic<Record<string, unknown>>>();
  let seq = 0;
  const authenticated = new URL(url).searchParams.has('token');

  const lineOf = (topic: Topic): RosMapping => {
    const line = byTopic.get(topic.name);
    if (!line)
      throw new TelekitError('E_CONFIG', `no ROS topic is mapped to ${topic.name}`, {
        context: { topic: topic.name },
      });
    return line;
  };
  const rosTopic = (line: RosMapping) => {
    let t = topics.get(line.topic.name);
    if (!t && ros) {
      t = new RosTopic<Record<string, unknown>>({
        ros,
        name: line.ros,
        messageType: line.type,
        // Telemetry is latched, so a late subscriber starts from the last sample; commands never are.
        latch: line.topic.lane === 'telemetry',
        queue_length: 1,
        // The transport resubscribes after a reconnect, not roslib.
        reconnect_on_close: false,
      });
      topics.set(line.topic.name, t);
    }
    return t;
  };
  /** A ROS message as the frame the transport decodes: the mapping's Telekit message, as JSON. */
  const frameOf = (line: RosMapping, msg: Record<string, unknown>): string => {
    if (isEnvelope(line)) return typeof msg.data === 'string' ? msg.data : JSON.stringify(msg.data);
    const checked = RosMessages.rosSchemas[line.type]?.safeParse(msg);
    // A ROS message of the wrong shape reaches the transport as it is, to be refused there by name.
    if (checked && !checked.success) return JSON.stringify(msg);
    const stamp = (msg.header as { stamp?: RosMessages.Time } | undefined)?.stamp;
    const ms = stamp ? RosMessages.timeToMs(stamp) : 0;
    const header: Header = { seq: seq++, stamp: ms > 0 ? ms : Date.now(), sender: 'rosbridge' };
    try {
      return JSON.stringify(
        (line.fromRos as unknown as (m: unknown, h: Header) => unknown)(checked?.data ?? msg, header),
      );
    } catch {
      return JSON.stringify(msg);
    }
  };

  return {
    connect(e) {
      events = e;
      topics.clear();
      return new Promise<void>((resolve, reject) => {
        const r = new Ros({});
        ros = r;
        let open = false;
        r.on('connection', () => {
          open = true;
          if (!authenticated) return resolve();
          // A Telekit endpoint verifies the token after the upgrade: one round trip tells whether it
          // let us in (the answer) or not (an E_AUTH status, then the close).
          new Service({
            ros: r,
            name: '/rosapi/get_time',
            serviceType: 'rosapi_msgs/srv/GetTime',
          }).callService(
            {},
            () => resolve(),
            () => resolve(),
          );
        });
        r.on('error', (error: unknown) => {
          if (!open) reject(new Error(`rosbridge at ${url} refused the connection: ${String(error)}`));
        });
        r.on('close', () => {
          if (ros !== r) return;
          ros = undefined;
          topics.clear();
          if (open) e.lost('the rosbridge socket closed');
          else reject(new Error(`rosbridge at ${url} closed before it opened`));
        });
        // A Telekit endpoint's refusals (no token, a bad one) come as status ops before the close.
        r.on('status', (status) => {
          const s = status as { msg?: string; code?: string };
          if (s.code !== 'E_AUTH') return;
          open = false;
          reject(new TelekitError('E_AUTH', s.msg ?? 'authentication refused'));
        });
        r.connect(url).catch(reject);
      });
    },
    send(frame) {
      const line = lineOf(frame.topic);
      const t = rosTopic(line);
      if (!t) throw new TelekitError('E_NOT_CONNECTED', 'the rosbridge link is down');
      t.publish((line.toRos as unknown as (m: unknown) => Record<string, unknown>)(frame.message));
    },
    async subscribe(topic) {
      const line = lineOf(topic);
      const t = rosTopic(line);
      if (!t) throw new TelekitError('E_NOT_CONNECTED', 'the rosbridge link is down');
      // rosbridge acknowledges no subscribe: live once it is sent.
      t.subscribe((msg) => events?.receive(topic.name, frameOf(line, msg)));
    },
    unsubscribe(topic) {
      topics.get(topic.name)?.unsubscribe();
    },
    async close() {
      const r = ros;
      ros = undefined;
      topics.clear();
      r?.close();
    },
  };
}

/**
 * A core `Transport` to a robot that runs only `rosbridge_server` (or to a Telekit gateway's
 * rosbridge endpoint), on the maintained `roslib` client: the ROS topics of the mapping become
 * Telekit topics, what arrives is validated, and the link reconnects and resubscribes by itself.
 *
 * @example
 * ```ts
 * import { Topics } from '@telekit/core';
 * import { createRosbridgeTransport } from '@telekit/rosbridge';
 * const robot = createRosbridgeTransport({ url: 'ws://robot.local:9090' });
 * await robot.connect();
 * robot.subscribe(Topics.pose).subscribe((p) => console.log(p.position.x)); // from /odom
 * ```
 */
export function createRosbridgeTransport(options: RosbridgeTransportOptions): DefinedTransport {
  return defineTransport({
    name: 'rosbridge',
    link: rosbridgeLink(options.url, options.mappings ?? defaultMappings()),
    codec: 'json',
    ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  });
}

/**
 * {@link createRosbridgeTransport} as the app's transport plugin.
 *
 * @example
 * ```ts
 * import { createApp } from '@telekit/core';
 * import { rosbridgeTransport } from '@telekit/rosbridge';
 * const app = createApp({ plugins: [rosbridgeTransport({ url: 'ws://robot.local:9090' })] });
 * await app.start();
 * ```
 */
export function rosbridgeTransport(options: RosbridgeTransportOptions): Plugin {
  let transport: DefinedTransport | undefined;
  return {
    name: '@telekit/rosbridge/transport',
    kind: 'transport',
    provides: [TransportToken],
    async setup(ctx) {
      transport = createRosbridgeTransport(options);
      ctx.provide(TransportToken, transport);
      await transport.connect();
      return () => transport?.close();
    },
    health() {
      if (!transport) return { status: 'down', detail: 'not started' };
      const s = transport.state;
      return {
        status: s.status === 'connected' ? 'ok' : 'degraded',
        detail: `${s.status}${s.reason ? ` (${s.reason})` : ''}`,
        data: { ...transport.linkStats() },
      };
    },
  };
}
