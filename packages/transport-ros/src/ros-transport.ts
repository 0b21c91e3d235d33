import {
  type Clock,
  type ConnectionState,
  createInProcessBus,
  type Feed,
  type Header,
  inProcessTransport,
  type Logger,
  type SubscribeOptions,
  silentLogger,
  systemClock,
  TelekitError,
  type Topic,
  type Transport,
  ValidationError,
} from '@telekit/core';
import type { TransportFault } from '@telekit/core/transport';
import type * as rclnodejs from 'rclnodejs';
import { BehaviorSubject, type Observable, Subject, type Subscription } from 'rxjs';
import type * as z from 'zod';
import {
  defaultMappings,
  type FromRosMapping,
  type QosSpec,
  type RosMapping,
  type ToRosMapping,
} from './mapping.js';
import { rosSchemas, type Time, timeToMs } from './messages.js';
import { loadRclnodejs, type RclModule, type RclNode } from './rcl.js';

/** Options of {@link createRosTransport}. */
export interface RosTransportOptions {
  /** The rclnodejs module (or a test double). Default: rclnodejs, loaded lazily. */
  rcl?: RclModule;
  /** The app's one ROS node. Default `telekit`. */
  nodeName?: string;
  namespace?: string;
  /** Default {@link defaultMappings}. */
  mappings?: readonly RosMapping[];
  /** How often the graph (publishers present or gone) is looked at, ms. Default 500. */
  graphPollMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** One mapped ROS topic in the graph. */
export interface RosTopicState {
  readonly ros: string;
  readonly telekit: string;
  readonly direction: 'to-ros' | 'from-ros';
  readonly publishers: number;
  readonly subscribers: number;
}

/** A message that could not cross between ROS and Telekit, and why. */
export interface RosMappingError {
  readonly ros: string;
  readonly telekit: string;
  readonly type: string;
  /** The offending field's path, when one is to blame. */
  readonly field?: string;
  readonly message: string;
}

/** Messages across each mapped topic. */
export interface RosTopicStats {
  readonly ros: string;
  readonly telekit: string;
  readonly forwarded: number;
  readonly rejected: number;
}

/** Telekit's transport on a ROS 2 graph. */
export interface RosTransport extends Transport {
  /** The app's ROS node (for what the mapping does not cover). */
  readonly node: RclNode;
  /** The mapped topics in the graph, at every poll. */
  readonly graph$: Observable<readonly RosTopicState[]>;
  /** Every message refused at the boundary, naming the topic and the field. */
  readonly errors$: Observable<RosMappingError>;
  stats(): RosTopicStats[];
  /** Calls a ROS service; rejects when it is not there within `timeoutMs` (default 5 000) or fails. */
  call<Res = unknown>(
    service: string,
    type: string,
    request: object,
    options?: { timeoutMs?: number },
  ): Promise<Res>;
  /**
   * Subscribes to a ROS topic's serialized messages (CDR bytes, not deserialized: for images and
   * other bulk data). Returns a function that unsubscribes.
   */
  subscribeRaw(type: string, topic: string, qos: QosSpec, onMessage: (bytes: Uint8Array) => void): () => void;
  /** Serves a ROS service; returns a function that stops serving. */
  serve<Req = unknown, Res extends object = object>(
    service: string,
    type: string,
    handler: (request: Req) => Res | Promise<Res>,
  ): () => void;
}

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_]*\/(msg|srv)\/[A-Z][A-Za-z0-9]*$/;

/** Processes sharing one rclnodejs context: initialised by the first transport, shut down by the last. */
const contexts = new WeakMap<RclModule, { users: number; ready: Promise<void> }>();

async function acquire(rcl: RclModule): Promise<void> {
  let entry = contexts.get(rcl);
  if (!entry) {
    entry = { users: 0, ready: rcl.isShutdown() ? rcl.init() : Promise.resolve() };
    contexts.set(rcl, entry);
  }
  entry.users++;
  await entry.ready;
}

function release(rcl: RclModule): void {
  const entry = contexts.get(rcl);
  if (!entry || --entry.users > 0) return;
  contexts.delete(rcl);
  if (!rcl.isShutdown()) rcl.shutdown();
}

function qosOf(rcl: RclModule, spec: QosSpec = {}): rclnodejs.QoS {
  // rmw's values: history keep-last 1 / keep-all 2; reliable 1 / best effort 2; transient local 1 / volatile 2.
  return new rcl.QoS(
    spec.history === 'keep-all' ? 2 : 1,
    spec.depth ?? 10,
    spec.reliability === 'best-effort' ? 2 : 1,
    spec.durability === 'transient-local' ? 1 : 2,
  );
}

function fieldOf(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  return { field, message: issue?.message ?? error.message };
}

/**
 * Telekit's streams on a ROS 2 graph: one node for the app, spun by rclnodejs's executor; every line
 * of the mapping a ROS publisher (commands, after the control lane's deadline and latest-wins rules)
 * or a ROS subscription (telemetry, checked field by field, then validated by the Telekit schema).
 * `state$` follows the graph: connected while every required ROS topic has a publisher.
 *
 * @example
 * ```ts
 * import { createRosTransport, defaultMappings } from '@telekit/transport-ros';
 * const ros = await createRosTransport({ mappings: defaultMappings({ twistStamped: true }) });
 * ros.subscribe(Topics.pose).subscribe((p) => console.log(p.position));
 * ```
 */
export async function createRosTransport(options: RosTransportOptions = {}): Promise<RosTransport> {
  const rcl = options.rcl ?? (await loadRclnodejs());
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const mappings = options.mappings ?? defaultMappings();
  // The bus counts what the boundary refuses in the feeds of the topic.
  const bus = createInProcessBus();
  const local = inProcessTransport({ bus, name: 'ros' });
  const state = new BehaviorSubject<ConnectionState>({ status: 'connecting', since: clock.now() });
  const graph = new BehaviorSubject<readonly RosTopicState[]>([]);
  const errors = new Subject<RosMappingError>();
  const faults = new Subject<TransportFault>();
  const counters = new Map<RosMapping, { forwarded: number; rejected: number }>();
  const logged = new Map<RosMapping, number>();
  const subscriptions: Subscription[] = [];
  let closed = false;

  for (const m of mappings) {
    if (!TYPE_NAME.test(m.type))
      throw new TelekitError(
        'E_ROS_UNKNOWN_TYPE',
        `${m.topic.name} ↔ ${m.ros}: type ${m.type} is not a ROS interface name such as geometry_msgs/msg/Twist`,
        { operation: 'setup', context: { topic: m.topic.name, field: 'type' } },
      );
    counters.set(m, { forwarded: 0, rejected: 0 });
  }

  await acquire(rcl);
  let node: RclNode;
  try {
    node = new rcl.Node(options.nodeName ?? 'telekit', options.namespace ?? '');
  } catch (error) {
    release(rcl);
    throw new TelekitError('E_ROS_NODE', `cannot create the ROS node: ${(error as Error).message}`, {
      operation: 'setup',
      cause: error,
    });
  }

  const reject = (m: RosMapping, message: string, field?: string, code = 'E_VALIDATION') => {
    counters.get(m)!.rejected++;
    if (m.direction === 'from-ros') bus.refused(m.topic as Topic<unknown>);
    faults.next({ code, message, topic: m.topic.name, ...(field ? { field } : {}) });
    const e: RosMappingError = {
      ros: m.ros,
      telekit: m.topic.name,
      type: m.type,
      message,
      ...(field ? { field } : {}),
    };
    errors.next(e);
    // A driver publishing bad data at 100 Hz must not flood the log: once, then every 10 s.
    const now = clock.now();
    const last = logged.get(m);
    if (last === undefined || now - last >= 10_000) {
      logged.set(m, now);
      logger.warn('message refused at the ROS boundary', { ...e, refused: counters.get(m)!.rejected });
    }
  };

  const create = <T>(m: RosMapping, what: string, make: () => T): T => {
    try {
      return make();
    } catch (error) {
      const text = (error as Error).message;
      const unknown = /not exist|cannot find|not found|unknown|invalid/i.test(text);
      throw new TelekitError(
        unknown ? 'E_ROS_UNKNOWN_TYPE' : 'E_ROS_NODE',
        `${m.topic.name} ↔ ${m.ros}: cannot create the ${what} of type ${m.type}: ${text}`,
        { operation: 'setup', cause: error, context: { topic: m.topic.name, field: 'type' } },
      );
    }
  };

  const toRosLine = (m: ToRosMapping) => {
    const publisher = create(m, 'publisher', () =>
      node.createPublisher(m.type, m.ros, { qos: qosOf(rcl, m.qos) }),
    );
    const schema = rosSchemas[m.type];
    subscriptions.push(
      local.subscribe(m.topic as Topic<never>, { depth: 1 }).subscribe((message) => {
        let out: object;
        try {
          out = m.toRos(message);
        } catch (error) {
          reject(m, `cannot convert to ${m.type}: ${(error as Error).message}`);
          return;
        }
        if (schema) {
          const checked = schema.safeParse(out);
          if (!checked.success) {
            const { field, message: why } = fieldOf(checked.error);
            reject(m, `${m.ros} (${m.type}): field ${field}: ${why}`, field);
            return;
          }
        }
        try {
          publisher.publish(out as never, { validate: true });
          counters.get(m)!.forwarded++;
        } catch (error) {
          reject(m, `${m.ros} (${m.type}): ${(error as Error).message}`, undefined, 'E_ROS_NODE');
        }
      }),
    );
  };

  const fromRosLine = (m: FromRosMapping) => {
    const schema = rosSchemas[m.type];
    let seq = 0;
    const sender = `ros:${m.ros}`.slice(0, 64);
    create(m, 'subscription', () =>
      node.createSubscription(m.type, m.ros, { qos: qosOf(rcl, m.qos) }, (raw: unknown) => {
        if (closed) return;
        let message = raw;
        if (schema) {
          const checked = schema.safeParse(raw);
          if (!checked.success) {
            const { field, message: why } = fieldOf(checked.error);
            reject(m, `${m.ros} (${m.type}): field ${field}: ${why}`, field);
            return;
          }
          message = checked.data;
        }
        const stamp = (message as { header?: { stamp?: Time } }).header?.stamp;
        const ms = stamp ? timeToMs(stamp) : 0;
        const header: Header = { seq: seq++, stamp: ms > 0 ? ms : clock.now(), sender };
        try {
          local.publish(m.topic as Topic<unknown>, m.fromRos(message as never, header));
          counters.get(m)!.forwarded++;
        } catch (error) {
          const field = error instanceof ValidationError ? error.field : undefined;
          reject(m, `${m.ros} → ${m.topic.name}: ${(error as Error).message}`, field);
        }
      }),
    );
  };

  try {
    for (const m of mappings) {
      if (m.direction === 'to-ros') toRosLine(m);
      else fromRosLine(m);
    }
    node.spin();
  } catch (error) {
    node.destroy();
    release(rcl);
    throw error;
  }

  const poll = () => {
    if (closed) return;
    try {
      const topics = mappings.map((m) => ({
        ros: m.ros,
        telekit: m.topic.name,
        direction: m.direction,
        publishers: node.countPublishers(m.ros),
        subscribers: node.countSubscribers(m.ros),
      }));
      graph.next(topics);
      const missing = mappings
        .filter((m) => m.direction === 'from-ros' && m.required !== false)
        .filter((m) => topics.find((t) => t.ros === m.ros)!.publishers === 0)
        .map((m) => m.ros);
      const status =
        missing.length === 0
          ? 'connected'
          : state.value.status === 'connecting'
            ? 'connecting'
            : 'reconnecting';
      const reason = missing.length ? `no publisher on ${missing.join(', ')}` : undefined;
      if (state.value.status !== status || state.value.reason !== reason)
        state.next({ status, since: clock.now(), ...(reason ? { reason } : {}) });
    } catch (error) {
      logger.warn('cannot read the ROS graph', { error: String(error) });
    }
  };
  poll();
  const timer = setInterval(poll, options.graphPollMs ?? 500);
  timer.unref?.();

  const clients = new Map<string, ReturnType<RclNode['createClient']>>();

  const transport: RosTransport = {
    name: `ros:${options.nodeName ?? 'telekit'}`,
    capabilities: { reconnect: true, remote: true },
    get state() {
      return state.value;
    },
    state$: state.asObservable(),
    faults$: faults.asObservable(),
    node,
    graph$: graph.asObservable(),
    errors$: errors.asObservable(),
    async connect() {
      if (closed)
        throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', { operation: 'connect' });
    },
    publish<T>(topic: Topic<T>, message: T) {
      local.publish(topic, message);
    },
    subscribe<T>(topic: Topic<T>, subscribeOptions?: SubscribeOptions): Feed<T> {
      return local.subscribe(topic, subscribeOptions);
    },
    stats() {
      return mappings.map((m) => ({ ros: m.ros, telekit: m.topic.name, ...counters.get(m)! }));
    },
    async call<Res>(
      service: string,
      type: string,
      request: object,
      callOptions: { timeoutMs?: number } = {},
    ) {
      const timeoutMs = callOptions.timeoutMs ?? 5_000;
      let client = clients.get(service);
      if (!client) {
        client = node.createClient(type, service);
        clients.set(service, client);
      }
      if (!(await client.waitForService(timeoutMs)))
        throw new TelekitError('E_ROS_SERVICE_UNAVAILABLE', `service ${service} (${type}) is not available`, {
          operation: 'call',
          context: { service, ms: timeoutMs },
        });
      try {
        return (await client.sendRequestAsync(request as never, { timeout: timeoutMs })) as Res;
      } catch (error) {
        throw new TelekitError('E_ROS_SERVICE', `service ${service} failed: ${(error as Error).message}`, {
          operation: 'call',
          cause: error,
          context: { service },
        });
      }
    },
    subscribeRaw(type, topic, qos, onMessage) {
      const subscription = node.createSubscription(
        type,
        topic,
        { qos: qosOf(rcl, qos), isRaw: true },
        (bytes) => {
          if (!closed) onMessage(bytes as Uint8Array);
        },
      );
      return () => {
        if (!closed) node.destroySubscription(subscription);
      };
    },
    serve(service, type, handler) {
      const server = node.createService(type, service, (request, response) => {
        Promise.resolve()
          .then(() => handler(request as never))
          .then(
            (answer) => response.send(answer as never),
            (error: unknown) => {
              logger.warn('service handler failed', { service, error: String(error) });
              response.send(response.template);
            },
          );
      });
      return () => node.destroyService(server);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const s of subscriptions) s.unsubscribe();
      try {
        node.destroy();
      } finally {
        release(rcl);
      }
      await local.close();
      state.next({ status: 'closed', since: clock.now() });
      state.complete();
      graph.complete();
      errors.complete();
      faults.complete();
    },
  };
  return transport;
}
