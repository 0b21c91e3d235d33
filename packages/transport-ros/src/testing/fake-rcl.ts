/**
 * A test double of rclnodejs (it knows the message types in {@link KNOWN_TYPES}): an in-memory ROS 2 graph with the behaviour Telekit relies on —
 * nodes, typed topics with QoS (a reliable subscription does not match a best-effort publisher,
 * keep-last queues), delivery only while a node spins, graph counts, raw (serialized) messages,
 * services — typed by rclnodejs's own declarations through the boundary (`RclModule`, `RclNode`).
 */
import type * as rclnodejs from 'rclnodejs';
import type { RclClient, RclHandle, RclModule, RclNode, RclPublisher, RclServiceResponse } from '../rcl.js';

/** The interfaces the double's "sourced ROS" knows. */
export const KNOWN_TYPES = new Set([
  'geometry_msgs/msg/Twist',
  'geometry_msgs/msg/TwistStamped',
  'nav_msgs/msg/Odometry',
  'sensor_msgs/msg/JointState',
  'sensor_msgs/msg/Imu',
  'sensor_msgs/msg/BatteryState',
  'sensor_msgs/msg/Image',
  'sensor_msgs/msg/CompressedImage',
  'diagnostic_msgs/msg/DiagnosticArray',
  'trajectory_msgs/msg/JointTrajectory',
  'std_msgs/msg/String',
  'std_srvs/srv/Trigger',
]);

class FakeQoS implements rclnodejs.QoS {
  history: number;
  depth: number;
  durability: number;
  liveliness = 0;
  avoidRosNameSpaceConventions = false;
  readonly #reliability: number;
  constructor(history = 1, depth = 10, reliability = 1, durability = 2) {
    this.history = history;
    this.depth = depth;
    this.#reliability = reliability;
    this.durability = durability;
  }
  reliability(): number {
    return this.#reliability;
  }
}

interface Sub {
  node: FakeNode;
  type: string;
  raw: boolean;
  qos: FakeQoS;
  callback: (message: unknown) => void;
  queue: unknown[];
}
interface Pub {
  node: FakeNode;
  type: string;
  qos: FakeQoS;
}

/** What the graph holds, kept out of its public face. */
interface Discovery {
  publishers: Map<string, Set<Pub>>;
  subscriptions: Map<string, Set<Sub>>;
  services: Map<
    string,
    { node: FakeNode; type: string; handler: (req: unknown, res: RclServiceResponse) => void }
  >;
}
const discovery = new WeakMap<FakeGraph, Discovery>();
const of = (graph: FakeGraph) => discovery.get(graph)!;
const setOf = <T>(map: Map<string, Set<T>>, topic: string): Set<T> => {
  const s = map.get(topic) ?? new Set<T>();
  map.set(topic, s);
  return s;
};

/** The shared graph: what DDS discovery would show every node. */
export class FakeGraph {
  /** Everything published, per topic, for assertions. */
  readonly sent = new Map<string, unknown[]>();

  constructor() {
    discovery.set(this, { publishers: new Map(), subscriptions: new Map(), services: new Map() });
  }

  /** Publishers of a topic, across every node. */
  publisherCount(topic: string): number {
    return of(this).publishers.get(topic)?.size ?? 0;
  }

  /** Subscriptions to a topic, across every node. */
  subscriberCount(topic: string): number {
    return of(this).subscriptions.get(topic)?.size ?? 0;
  }
}

const qosOf = (options?: rclnodejs.Options) =>
  options?.qos instanceof FakeQoS ? options.qos : new FakeQoS();

function unknownType(type: string): Error {
  return new Error(`The message required does not exist: ${type}`);
}

class FakeNode implements RclNode {
  readonly #name: string;
  readonly #namespace: string;
  readonly #graph: FakeGraph;
  #spinning = false;
  #destroyed = false;
  readonly #subs = new Set<Sub>();
  readonly #pubs = new Map<string, Pub>();
  readonly #services = new Set<string>();

  constructor(graph: FakeGraph, name: string, namespace = '') {
    this.#graph = graph;
    this.#name = name;
    this.#namespace = namespace;
  }

  name() {
    return this.#name;
  }
  namespace() {
    return this.#namespace;
  }

  createPublisher(type: string, topic: string, options?: rclnodejs.Options): RclPublisher {
    if (!KNOWN_TYPES.has(type)) throw unknownType(type);
    const pub: Pub = { node: this, type, qos: qosOf(options) };
    setOf(of(this.#graph).publishers, topic).add(pub);
    this.#pubs.set(topic, pub);
    const graph = this.#graph;
    return {
      topic,
      publish: (message: unknown) => {
        if (this.#destroyed) throw new Error('publisher is destroyed');
        const log = graph.sent.get(topic) ?? [];
        log.push(message);
        graph.sent.set(topic, log);
        for (const sub of of(graph).subscriptions.get(topic) ?? []) {
          if (sub.type !== type) continue; // DDS matches only the same type
          // A reliable reader does not match a best-effort writer.
          if (sub.qos.reliability() === 1 && pub.qos.reliability() === 2) continue;
          const isRaw = message instanceof Uint8Array;
          if (isRaw !== sub.raw) continue; // the double serializes nothing
          sub.node.#deliver(sub, isRaw ? message : structuredClone(message));
        }
      },
    } as RclPublisher;
  }

  #deliver(sub: Sub, message: unknown) {
    sub.queue.push(message);
    if (sub.qos.history === 1 && sub.queue.length > sub.qos.depth) sub.queue.shift();
    setImmediate(() => this.#drain(sub));
  }

  #drain(sub: Sub) {
    if (!this.#spinning || this.#destroyed || !this.#subs.has(sub)) return;
    for (let m = sub.queue.shift(); m !== undefined; m = sub.queue.shift()) sub.callback(m);
  }

  createSubscription(
    type: string,
    topic: string,
    options: rclnodejs.Options,
    callback: (message: unknown) => void,
  ): RclHandle {
    if (!KNOWN_TYPES.has(type)) throw unknownType(type);
    const sub: Sub = {
      node: this,
      type,
      raw: options.isRaw === true,
      qos: qosOf(options),
      callback,
      queue: [],
    };
    this.#subs.add(sub);
    setOf(of(this.#graph).subscriptions, topic).add(sub);
    return sub;
  }

  createClient(type: string, service: string): RclClient {
    if (!KNOWN_TYPES.has(type)) throw unknownType(type);
    const graph = this.#graph;
    return {
      async waitForService(timeout = 1_000) {
        const deadline = Date.now() + timeout;
        while (!of(graph).services.has(service)) {
          if (Date.now() > deadline) return false;
          await new Promise((r) => setTimeout(r, 10));
        }
        return true;
      },
      sendRequestAsync(request: never) {
        const server = of(graph).services.get(service);
        if (!server) return Promise.reject(new Error(`service ${service} is not available`));
        return new Promise((resolve) => {
          setImmediate(() =>
            server.handler(structuredClone(request), { template: {}, send: (r) => resolve(r) }),
          );
        });
      },
    };
  }

  createService(
    type: string,
    service: string,
    callback: (request: unknown, response: RclServiceResponse) => void,
  ): RclHandle {
    if (!KNOWN_TYPES.has(type)) throw unknownType(type);
    const entry = { node: this, type, handler: callback };
    of(this.#graph).services.set(service, entry);
    this.#services.add(service);
    return entry;
  }

  countPublishers(topic: string) {
    return this.#graph.publisherCount(topic);
  }
  countSubscribers(topic: string) {
    return this.#graph.subscriberCount(topic);
  }

  spin() {
    this.#spinning = true;
    for (const sub of this.#subs) setImmediate(() => this.#drain(sub));
  }

  destroySubscription(subscription: RclHandle) {
    const sub = subscription as Sub;
    this.#subs.delete(sub);
    for (const set of of(this.#graph).subscriptions.values()) set.delete(sub);
  }

  destroyService(service: RclHandle) {
    for (const [name, entry] of of(this.#graph).services)
      if (entry === service) of(this.#graph).services.delete(name);
  }

  /** Destroys the node and everything it created: it leaves the graph. */
  destroy() {
    this.#destroyed = true;
    for (const sub of this.#subs) this.destroySubscription(sub);
    for (const [topic, pub] of this.#pubs) of(this.#graph).publishers.get(topic)?.delete(pub);
    for (const name of this.#services) of(this.#graph).services.delete(name);
  }
}

/** A fresh double: its own graph, initialised on `init()`. */
export function fakeRcl(
  graph = new FakeGraph(),
): RclModule & { graph: FakeGraph; node(name: string): RclNode } {
  let up = false;
  return {
    graph,
    async init() {
      if (up) throw new Error('The context has already been initialized.');
      up = true;
    },
    shutdown() {
      up = false;
    },
    isShutdown: () => !up,
    Node: class extends FakeNode {
      constructor(name: string, namespace?: string) {
        super(graph, name, namespace);
      }
    },
    QoS: FakeQoS,
    /** Another node on the same graph: the robot's drivers in a test. */
    node(name: string) {
      const n = new FakeNode(graph, name);
      n.spin();
      return n;
    },
  };
}
