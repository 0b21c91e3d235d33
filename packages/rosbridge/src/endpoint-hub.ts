import { type Clock, defineTopic, type Header, type Logger, type Topic } from '@telekit/core';
import type { Role } from '@telekit/core/safety';
import { message } from '@telekit/core/schemas';
import { fromRos, type RosMapping } from '@telekit/transport-ros';
import { encode } from 'cbor2';
import * as z from 'zod';
import { normaliseName } from './ros-names.js';
import { type Graph, ROSAPI, type ServiceAnswer } from './rosapi.js';
import type { RosbridgeConnection } from './rosbridge-connection.js';

/** The endpoint's own counts, for its health and the benches. */
export interface RosbridgeMetrics {
  /** Clients connected now. */
  clients: number;
  /** Frames refused for their form: not JSON or CBOR, no op, an unknown op, too large, a wrong field, an unmapped topic. */
  badFrames: number;
  /** Telemetry messages written to clients. */
  sent: number;
  /** Telemetry messages a slow client did not get (a newer one took its place). */
  dropped: number;
}

/** Unmapped ROS names relayed as they are. */
export interface RelayOptions {
  /** ROS names (normalised) or prefixes ending in `*`. */
  readonly names: readonly string[];
  /** Makes a relayed topic known to the gateway. */
  addTopic(topic: Topic): void;
}

const allowedName = (patterns: readonly string[], name: string) =>
  patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));

/** A frame for clients: its bytes, and whether they go as a binary (CBOR) or a text (JSON) frame. */
export interface OutFrame {
  readonly bytes: Uint8Array;
  readonly binary: boolean;
}

/** A service call waiting for the client that offers it. */
interface Pending {
  readonly offeredBy: RosbridgeConnection;
  readonly resolve: (a: ServiceAnswer) => void;
  readonly timer: NodeJS.Timeout;
}

/** What every connection of one endpoint shares: the mapping, the graph, the offered services, the encoder. */
export class EndpointHub implements Graph {
  readonly lines: Map<string, RosMapping>;
  readonly #relay: RelayOptions | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly autoLease: boolean;
  readonly keepAliveMs: number;
  readonly params: Map<string, string>;
  readonly metrics: RosbridgeMetrics = { clients: 0, badFrames: 0, sent: 0, dropped: 0 };
  readonly #acl: (role: Role, verb: 'publish' | 'subscribe', topic: string) => boolean;
  readonly #connections = new Set<RosbridgeConnection>();
  readonly #offered = new Map<string, { by: RosbridgeConnection; type: string }>();
  readonly #pending = new Map<string, Pending>();
  readonly #serviceTimeoutMs: number;
  /** Each sample's ROS JSON, made once however many clients get it. */
  #encoded = new WeakMap<object, Map<string, OutFrame>>();
  #calls = 0;
  #relayed = 0;

  constructor(options: {
    lines: Map<string, RosMapping>;
    clock: Clock;
    log: Logger;
    autoLease: boolean;
    keepAliveMs: number;
    params: Map<string, string>;
    serviceTimeoutMs: number;
    acl: (role: Role, verb: 'publish' | 'subscribe', topic: string) => boolean;
    relay?: RelayOptions;
  }) {
    this.#relay = options.relay;
    this.lines = options.lines;
    this.clock = options.clock;
    this.log = options.log;
    this.autoLease = options.autoLease;
    this.keepAliveMs = options.keepAliveMs;
    this.params = options.params;
    this.#serviceTimeoutMs = options.serviceTimeoutMs;
    this.#acl = options.acl;
  }

  /**
   * The mapping line of a ROS name: the mapping's, or — for a name the relay allow-list names — a
   * line made on first use that carries the ROS message as it is on a Telekit topic `/ros<name>`.
   */
  lineFor(name: string, type: string | undefined): RosMapping | undefined {
    const known = this.lines.get(name);
    if (known) return known;
    const relay = this.#relay;
    if (!relay || !allowedName(relay.names, name) || this.#relayed >= 256) return undefined;
    const topic = defineTopic({
      name: `/ros${name}`,
      lane: 'telemetry',
      schema: message({ type: z.string().max(256), msg: z.record(z.string(), z.unknown()) }),
      depth: 16,
      description: `ROS ${name}, relayed as it is by the rosbridge endpoint.`,
    });
    const rosType = type ?? 'unknown';
    const line = fromRos<
      { header: Header; type: string; msg: Record<string, unknown> },
      Record<string, unknown>
    >({
      topic,
      ros: name,
      type: rosType,
      fromRos: (msg, header) => ({ header, type: rosType, msg }),
      toRos: (m) => m.msg,
    });
    relay.addTopic(topic as Topic);
    this.lines.set(name, line);
    this.#relayed++;
    return line;
  }

  joined(c: RosbridgeConnection): void {
    this.#connections.add(c);
    this.metrics.clients = this.#connections.size;
  }

  left(c: RosbridgeConnection): void {
    if (!this.#connections.delete(c)) return;
    this.metrics.clients = this.#connections.size;
    for (const [name, o] of this.#offered) if (o.by === c) this.#offered.delete(name);
    for (const [id, p] of this.#pending)
      if (p.offeredBy === c) {
        clearTimeout(p.timer);
        this.#pending.delete(id);
        p.resolve({ ok: false, error: 'the client offering the service left' });
      }
  }

  get connections(): ReadonlySet<RosbridgeConnection> {
    return this.#connections;
  }

  /**
   * A telemetry sample as a rosbridge `publish` frame for a client that named the topic `name`: its
   * bytes (UTF-8 JSON, or CBOR), made once per sample and spelling however many clients get it, so
   * a fan-out costs one encode and the sockets' writes.
   */
  encode(message: object, name: string, cbor: boolean, toRos: (m: unknown) => object): OutFrame {
    let cached = this.#encoded.get(message);
    if (!cached) {
      cached = new Map();
      this.#encoded.set(message, cached);
    }
    const key = `${cbor ? 'c' : 'j'}${name}`;
    let frame = cached.get(key);
    if (!frame) {
      frame = cbor
        ? { bytes: encode({ op: 'publish', topic: name, msg: toRos(message) }), binary: true }
        : {
            bytes: Buffer.from(
              `{"op":"publish","topic":${JSON.stringify(name)},"msg":${JSON.stringify(toRos(message))}}`,
            ),
            binary: false,
          };
      cached.set(key, frame);
    }
    return frame;
  }

  // --- the graph, for rosapi ---

  topics(role: Role): { topics: string[]; types: string[] } {
    const topics: string[] = [];
    const types: string[] = [];
    for (const [name, line] of this.lines) {
      if (!this.#acl(role, 'subscribe', line.topic.name) && !this.#acl(role, 'publish', line.topic.name))
        continue;
      topics.push(name);
      types.push(line.type);
    }
    return { topics, types };
  }

  services(): { services: string[]; types: string[] } {
    const services = [...Object.keys(ROSAPI), ...this.#offered.keys()];
    const types = [
      ...Object.values(ROSAPI).map((s) => s.type),
      ...[...this.#offered.values()].map((o) => o.type),
    ];
    return { services, types };
  }

  publishers(topic: string): string[] {
    const name = normaliseName(topic);
    const line = this.lines.get(name);
    if (!line) return [];
    const who = [...this.#connections]
      .filter((c) => c.advertised.has(name))
      .map((c) => `/rosbridge/${c.peer?.id ?? ''}`);
    return line.direction === 'from-ros' ? ['/telekit_gateway', ...who] : who;
  }

  subscribers(topic: string): string[] {
    const name = normaliseName(topic);
    const who = [...this.#connections]
      .filter((c) => c.outgoing.has(name))
      .map((c) => `/rosbridge/${c.peer?.id ?? ''}`);
    return this.lines.get(name)?.direction === 'to-ros' ? ['/telekit_gateway', ...who] : who;
  }

  now(): number {
    return this.clock.now();
  }

  // --- services ---

  /** A client offers `name`; false when another one does already. */
  offer(c: RosbridgeConnection, name: string, type: string): boolean {
    const had = this.#offered.get(name);
    if (had && had.by !== c) return false;
    this.#offered.set(name, { by: c, type });
    return true;
  }

  withdraw(c: RosbridgeConnection, name: string): void {
    if (this.#offered.get(name)?.by === c) this.#offered.delete(name);
  }

  /** Calls a service: rosapi here, or the client that offers it. The type is resolved here (roslib 2 sends none). */
  call(
    c: RosbridgeConnection,
    name: string,
    args: Record<string, unknown>,
    timeoutS: number | undefined,
  ): Promise<ServiceAnswer> {
    const role = c.peer?.role ?? 'viewer';
    const local = ROSAPI[name];
    if (local && Object.hasOwn(ROSAPI, name)) {
      if (local.writes && role === 'viewer')
        return Promise.resolve({ ok: false, error: `role viewer may not call ${name}` });
      try {
        return Promise.resolve(local.call(this, args, role));
      } catch (error) {
        return Promise.resolve({ ok: false, error: `${name} failed: ${String(error)}` });
      }
    }
    const offered = this.#offered.get(name);
    if (!offered) return Promise.resolve({ ok: false, error: `no service ${name.slice(0, 128)}` });
    if (role === 'viewer') return Promise.resolve({ ok: false, error: `role viewer may not call ${name}` });
    if (this.#pending.size >= 1024)
      return Promise.resolve({ ok: false, error: 'too many service calls waiting' });
    const id = `telekit:${++this.#calls}`;
    return new Promise<ServiceAnswer>((resolve) => {
      const ms = timeoutS && timeoutS > 0 ? timeoutS * 1000 : this.#serviceTimeoutMs;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ ok: false, error: `${name} did not answer within ${ms} ms` });
      }, ms);
      timer.unref();
      this.#pending.set(id, { offeredBy: offered.by, resolve, timer });
      offered.by.reply({ op: 'call_service', id, service: name, args });
    });
  }

  /** The offering client answered call `id`; false when no such call waits for it. */
  answered(c: RosbridgeConnection, id: string, result: boolean, values: unknown): boolean {
    const p = this.#pending.get(id);
    if (!p || p.offeredBy !== c) return false;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(
      result
        ? { ok: true, values: values ?? {} }
        : { ok: false, error: typeof values === 'string' ? values : 'the service failed' },
    );
    return true;
  }

  close(): void {
    for (const c of [...this.#connections]) c.close();
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#encoded = new WeakMap();
  }
}
