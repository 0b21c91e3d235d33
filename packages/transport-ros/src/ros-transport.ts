import {
  type Clock,
  type ConnectionState,
  createInProcessBus,
  type Feed,
  inProcessTransport,
  type Logger,
  type SubscribeOptions,
  silentLogger,
  systemClock,
  TelekitError,
  type Topic,
  type Transport,
} from '@telekit/core';
import type { TransportFault } from '@telekit/core/transport';
import { BehaviorSubject, type Observable, Subject, type Subscription } from 'rxjs';
import { defaultMappings, type QosSpec, type RosMapping } from './mapping.js';
import { loadRclnodejs, type RclModule, type RclNode } from './rcl.js';
import { acquire, release } from './rcl-context.js';
import { watchGraph } from './ros-graph.js';
import { type LineCounters, openLines } from './ros-lines.js';
import { nodeServices } from './ros-services.js';

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
  const counters: LineCounters = new Map();
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

  let subscriptions: Subscription[];
  try {
    subscriptions = openLines(mappings, {
      rcl,
      node,
      local,
      bus,
      clock,
      logger,
      counters,
      errors,
      faults,
      closed: () => closed,
    });
    node.spin();
  } catch (error) {
    node.destroy();
    release(rcl);
    throw error;
  }

  const timer = watchGraph(
    { node, mappings, state, graph, clock, logger, closed: () => closed },
    options.graphPollMs ?? 500,
  );

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
    ...nodeServices(rcl, node, logger, () => closed),
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
