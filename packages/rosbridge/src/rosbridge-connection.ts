import type { Header } from '@telekit/core';
import type { GatewayDoor, GatewayPeer, PeerAnswer } from '@telekit/gateway';
import { type RosMapping, RosMessages } from '@telekit/transport-ros';
import type { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import type { EndpointHub, OutFrame } from './endpoint-hub.js';
import { normaliseName, sameType } from './ros-names.js';
import { ROSAPI } from './rosapi.js';
import { Fields, type Frame, type FrameError, readFrame } from './rosbridge-frame.js';

/** rosbridge's status levels, most verbose first. */
const LEVELS = ['info', 'warning', 'error', 'none'] as const;
type Level = (typeof LEVELS)[number];

/** One subscription of this client: the newest samples of one topic, paced by the socket and `throttle_rate`. */
interface Outgoing {
  /** The name as the client spelled it (roslib dispatches on it). */
  readonly name: string;
  readonly line: RosMapping;
  readonly ids: Set<string>;
  readonly depth: number;
  readonly throttleMs: number;
  readonly cbor: boolean;
  /** Encoded frames waiting, oldest first; never more than `depth`. */
  readonly queue: OutFrame[];
  readonly feed: Subscription;
  lastSent: number;
  dropped: number;
}

type Handler = (c: RosbridgeConnection, f: Fields, frame: Frame) => void | Promise<void>;

/** The bytes the socket may hold unsent before telemetry waits: a command's answer never queues behind more. */
const TELEMETRY_HIGH_WATER = 64 * 1024;

/**
 * One rosbridge client: its socket, its gateway session (a peer, once authenticated), its
 * subscriptions and advertisements. Frames in are handled at once, in order, by the op table below;
 * frames out are replies (written at once) and telemetry (each subscription a keep-last queue of
 * `queue_length`, written only while the socket has drained, so a command never waits behind a
 * backlog and a slow client gets the newest sample).
 */
export class RosbridgeConnection {
  readonly ws: WebSocket;
  readonly hub: EndpointHub;
  readonly door: GatewayDoor;
  peer: GatewayPeer | undefined;
  level: Level = 'error';
  readonly outgoing = new Map<string, Outgoing>();
  /** Topics this client advertised, with their type. */
  readonly advertised = new Map<string, string>();
  /** Services this client advertised, with their type. */
  readonly services = new Map<string, string>();
  /** Commands per topic: the sequence numbers the gateway orders them by. */
  readonly #seq = new Map<string, number>();
  #entering: Promise<void> | undefined;
  #waiting: { data: Buffer; binary: boolean }[] = [];
  #flushArmed = false;
  #closed = false;
  #drainTimer: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, hub: EndpointHub, door: GatewayDoor, token: string | undefined) {
    this.ws = ws;
    this.hub = hub;
    this.door = door;
    ws.on('message', (data, binary) => this.#receive(data as Buffer, binary));
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
    // A client whose link died without a close (a pulled cable, a sleeping laptop) answers no ping:
    // it is cut at the second unanswered one, and its lease goes with it.
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    this.#keepAlive = setInterval(() => {
      if (!alive) {
        ws.terminate();
        this.close();
        return;
      }
      alive = false;
      ws.ping();
    }, hub.keepAliveMs);
    this.#keepAlive.unref();
    const netSocket = (ws as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    netSocket?.on('drain', () => this.#arm());
    if (token !== undefined) this.#enter(token);
    else {
      // No token in the URL: an open gateway lets it in as it is; otherwise the `auth` op must come.
      this.#enter(undefined, true);
      const timer = setTimeout(() => {
        if (!this.peer && !this.#closed)
          this.#refuseAndClose(
            'E_AUTH',
            'auth',
            'no token within the time allowed: send ?token= or the auth op',
          );
      }, door.authTimeoutMs);
      timer.unref();
    }
  }

  /** Authenticates with `token`; `quiet`: a missing token is not (yet) a failure. */
  #enter(token: string | undefined, quiet = false): void {
    this.#entering = this.door
      .enter(token, () => this.#hangUp())
      .then((peer) => {
        if (this.#closed) return peer.close();
        this.peer = peer;
        this.hub.joined(this);
      })
      .catch((error: { reason?: string; message?: string }) => {
        if (quiet && error.reason === 'missing') return;
        this.#refuseAndClose(
          'E_AUTH',
          'auth',
          `authentication refused (${error.reason ?? 'invalid'}): ${error.message ?? ''}`,
        );
      })
      .finally(() => {
        this.#entering = undefined;
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const w of waiting) this.#receive(w.data, w.binary);
      });
  }

  #receive(data: Buffer, binary: boolean): void {
    if (this.#closed) return;
    if (this.#entering) {
      // Frames sent while the token is being verified are handled after it, in order (a few).
      if (this.#waiting.length < 64) this.#waiting.push({ data, binary });
      return;
    }
    const limit = this.door.maxPayloadBytes;
    if (data.length > limit) {
      this.#badFrame(
        { field: '(frame)', message: `frame of ${data.length} bytes exceeds the limit of ${limit} bytes` },
        'E_PAYLOAD_TOO_LARGE',
      );
      return;
    }
    const read = readFrame(data, binary);
    if (read.error) {
      this.#badFrame(read.error);
      return;
    }
    const frame = read.frame;
    const op = frame.op;
    const f = new Fields(frame);
    if (op === 'auth') {
      this.#auth(f);
      return;
    }
    const peer = this.peer;
    if (!peer) {
      this.#status('error', `${op}: authenticate first: a token in the URL (?token=) or the auth op`, f.id, {
        code: 'E_AUTH',
        field: 'op',
      });
      this.#conductRefusal();
      return;
    }
    const handler = Object.hasOwn(OPS, op) ? OPS[op] : undefined;
    if (!handler) {
      this.#badFrame(
        {
          field: 'op',
          message: `unknown op ${JSON.stringify(op.slice(0, 64))}`,
          op,
          ...(f.id ? { id: f.id } : {}),
        },
        'E_ROSBRIDGE_OP',
      );
      return;
    }
    if (op !== 'publish' && op !== 'service_response') {
      const r = peer.request();
      if (!r.ok) {
        this.refusal(op, r, f.id);
        return;
      }
    }
    try {
      const done = handler(this, f, frame);
      if (done instanceof Promise) done.catch((error) => this.#internal(op, error, f.id));
    } catch (error) {
      this.#internal(op, error, f.id);
    }
  }

  #auth(f: Fields): void {
    const mac = f.string('mac', false, 8192);
    if (f.error) {
      this.#badFrame(f.error);
      return;
    }
    if (this.peer) {
      this.#status('warning', 'auth: authenticated already', f.id);
      return;
    }
    this.#enter(mac);
  }

  /** A frame the endpoint could not read: a status naming the field, counted in the principal's conduct. */
  #badFrame(e: FrameError, code = 'E_BAD_REQUEST'): void {
    const answer = this.peer ? this.peer.refused().answer : true;
    this.hub.metrics.badFrames++;
    if (!answer) return;
    this.#status('error', `${e.op ? `${e.op}: ` : ''}${e.field}: ${e.message}`, e.id, {
      code,
      field: e.field,
    });
  }

  #conductRefusal(): void {
    this.hub.metrics.badFrames++;
  }

  #internal(op: string, error: unknown, id: string | undefined): void {
    this.hub.log.error('rosbridge op failed', { op, error: String(error) });
    this.#status('error', `${op}: the endpoint could not handle this frame`, id, { code: 'E_INTERNAL' });
  }

  /** Says why the gateway refused something (when the principal's record still earns an answer). */
  refusal(op: string, r: Exclude<PeerAnswer, { ok: true }>, id: string | undefined): void {
    if (!r.answer) return;
    this.#status('error', `${op}: ${r.error.message}`, id, {
      code: r.error.code,
      ...(r.error.field ? { field: r.error.field } : {}),
      ...(r.error.topic ? { topic: r.error.topic } : {}),
    });
  }

  /** Refuses a frame for a reason of the endpoint's own (a field, an unmapped topic). */
  refuse(op: string, field: string, message: string, id: string | undefined, code = 'E_BAD_REQUEST'): void {
    const answer = this.peer ? this.peer.refused().answer : true;
    this.hub.metrics.badFrames++;
    if (answer) this.#status('error', `${op}: ${field}: ${message}`, id, { code, field });
  }

  #status(level: Level, msg: string, id: string | undefined, extra: Record<string, string> = {}): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
    this.reply({ op: 'status', level, msg, ...(id === undefined ? {} : { id }), ...extra });
  }

  /** A warning or note the client asked to hear (`set_level`). */
  note(level: 'info' | 'warning', msg: string, id: string | undefined): void {
    this.#status(level, msg, id);
  }

  /** Writes a reply now, unless the client left too much unread (then it is dropped). */
  reply(message: object): void {
    if (this.#closed || this.ws.readyState !== 1) return;
    if (this.peer && !this.peer.writable(this.ws.bufferedAmount)) return;
    this.ws.send(JSON.stringify(message));
  }

  #refuseAndClose(code: string, field: string, msg: string): void {
    if (this.#closed) return;
    // Said whatever the level: the client must learn why it is being closed.
    if (this.ws.readyState === 1)
      this.ws.send(JSON.stringify({ op: 'status', level: 'error', msg, code, field }));
    this.ws.close(1008, msg.slice(0, 120));
    this.close();
  }

  /** The gateway ended the session (abuse, a drill, closing): hang up. */
  #hangUp(): void {
    if (this.#closed) return;
    if (this.ws.readyState === 1) this.ws.close(1008, 'the session ended');
    this.close();
    // A peer cut off for abuse may not linger in the closing handshake.
    setTimeout(() => this.ws.terminate(), 1_000).unref();
  }

  /** The next sequence number of a command on `topic` from this client. */
  seq(topic: string): number {
    const n = this.#seq.get(topic) ?? 0;
    this.#seq.set(topic, n + 1);
    return n;
  }

  header(topic: string): Header {
    return { seq: this.seq(topic), stamp: this.hub.clock.now(), sender: this.peer?.id ?? 'rosbridge' };
  }

  // --- telemetry out ---

  subscribe(
    name: string,
    line: RosMapping,
    id: string,
    depth: number,
    throttleMs: number,
    cbor: boolean,
  ): PeerAnswer {
    const key = normaliseName(name);
    const had = this.outgoing.get(key);
    if (had) {
      // roslib resubscribes with the same id after a reconnect; another id adds a subscriber.
      had.ids.add(id);
      return { ok: true };
    }
    const peer = this.peer!;
    const sub = peer.subscribe(line.topic.name);
    if (!sub.ok || !sub.feed)
      return sub.ok ? { ok: false, error: { code: 'E_INTERNAL', message: 'no feed' }, answer: true } : sub;
    const toRos = line.toRos as ((m: unknown) => object) | undefined;
    const out: Outgoing = {
      name,
      line,
      ids: new Set([id]),
      depth,
      throttleMs,
      cbor,
      queue: [],
      lastSent: 0,
      dropped: 0,
      feed: undefined as unknown as Subscription,
    };
    (out as { feed: Subscription }).feed = sub.feed.subscribe((m) => {
      if (!toRos) return;
      this.#push(out, this.hub.encode(m as object, name, cbor, toRos));
    });
    this.outgoing.set(key, out);
    return { ok: true };
  }

  unsubscribe(name: string, id: string | undefined): void {
    const key = normaliseName(name);
    const out = this.outgoing.get(key);
    if (!out) return;
    if (id !== undefined && out.ids.has(id) && out.ids.size > 1) {
      out.ids.delete(id);
      return;
    }
    out.feed.unsubscribe();
    this.outgoing.delete(key);
  }

  #push(out: Outgoing, frame: OutFrame): void {
    if (this.#closed) return;
    if (out.queue.length >= out.depth) {
      out.queue.shift();
      out.dropped++;
      this.hub.metrics.dropped++;
    }
    out.queue.push(frame);
    this.#arm();
  }

  #arm(delayMs = 0): void {
    if (this.#flushArmed || this.#closed) return;
    this.#flushArmed = true;
    if (delayMs > 0) {
      this.#drainTimer = setTimeout(() => this.#flush(), delayMs);
      this.#drainTimer.unref();
    } else queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushArmed = false;
    if (this.#closed || this.ws.readyState !== 1) return;
    const now = this.hub.clock.now();
    let wait = Number.POSITIVE_INFINITY;
    for (const out of this.outgoing.values()) {
      while (out.queue.length > 0) {
        if (this.ws.bufferedAmount > TELEMETRY_HIGH_WATER) {
          // The socket's 'drain' re-arms; a timer too, in case the buffer empties without one.
          this.#arm(20);
          return;
        }
        const due = out.lastSent + out.throttleMs - now;
        if (out.throttleMs > 0 && due > 0) {
          wait = Math.min(wait, due);
          break;
        }
        const frame = out.queue.shift()!;
        this.ws.send(frame.bytes, { binary: frame.binary });
        out.lastSent = now;
        this.hub.metrics.sent++;
      }
    }
    if (wait !== Number.POSITIVE_INFINITY) this.#arm(Math.max(1, wait));
  }

  // --- services the client advertised ---

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#drainTimer);
    clearInterval(this.#keepAlive);
    for (const out of this.outgoing.values()) out.feed.unsubscribe();
    this.outgoing.clear();
    this.hub.left(this);
    // Whatever it was driving stops now: the lease goes with the session.
    this.door.close();
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close();
  }
}

/** The publish op: a ROS message on a mapped topic, through the gateway's handler and safety chain. */
const publish: Handler = (c, f) => {
  const topic = f.string('topic');
  const msg = f.object('msg');
  if (f.error) return c.refuse('publish', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, c.advertised.get(name));
  if (!line?.fromRos)
    return c.refuse(
      'publish',
      'topic',
      `${name.slice(0, 128)} is not mapped to a Telekit topic`,
      f.id,
      'E_ROSBRIDGE_UNMAPPED',
    );
  const schema = RosMessages.rosSchemas[line.type];
  const stamped = RosMessages.rosSchemas['geometry_msgs/msg/TwistStamped']!;
  let checked = schema?.safeParse(msg);
  // `/cmd_vel` takes a Twist or a TwistStamped, whichever the mapping sends on.
  if (
    checked &&
    !checked.success &&
    sameType(line, 'geometry_msgs/msg/TwistStamped') &&
    msg &&
    'twist' in msg
  )
    checked = stamped.safeParse(msg);
  if (checked && !checked.success) {
    const issue = checked.error.issues[0];
    const field = `msg.${issue?.path.join('.') ?? ''}`.replace(/\.$/, '');
    return c.refuse(
      'publish',
      field,
      issue?.message.replace(/^Invalid input: /, '') ?? 'malformed',
      f.id,
      'E_VALIDATION',
    );
  }
  let message: unknown;
  try {
    message = (line.fromRos as unknown as (m: unknown, h: Header) => unknown)(
      checked ? checked.data : msg,
      c.header(line.topic.name),
    );
  } catch (error) {
    return c.refuse(
      'publish',
      'msg',
      `does not convert: ${String(error).slice(0, 120)}`,
      f.id,
      'E_VALIDATION',
    );
  }
  const peer = c.peer!;
  const answer = peer.publish(line.topic.name, message);
  // A rosbridge client has no lease op: an operator's first command asks for the free lease.
  if (!answer.ok && answer.error.code === 'E_NOT_HOLDER' && c.hub.autoLease && peer.role !== 'viewer') {
    void peer.lease('acquire').then(
      (d) => {
        if (!d.granted) return c.refusal('publish', answer as Exclude<PeerAnswer, { ok: true }>, f.id);
        const again = peer.publish(line.topic.name, {
          ...(message as object),
          header: c.header(line.topic.name),
        });
        if (!again.ok) c.refusal('publish', again, f.id);
      },
      (error: unknown) =>
        c.refuse(
          'publish',
          'topic',
          `the lease could not be asked for: ${String(error)}`,
          f.id,
          'E_INTERNAL',
        ),
    );
    return;
  }
  if (!answer.ok) c.refusal('publish', answer, f.id);
};

const subscribe: Handler = (c, f) => {
  const topic = f.string('topic');
  const type = f.string('type', true);
  const throttle = f.number('throttle_rate', 0, 3_600_000) ?? 0;
  const queue = f.number('queue_length', 0, 1_000) ?? 0;
  const compression = f.oneOf('compression', ['none', 'png', 'cbor', 'cbor-raw'] as const, 'none');
  f.number('fragment_size', 0, Number.MAX_SAFE_INTEGER);
  if (f.error) return c.refuse('subscribe', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, type);
  if (!line?.toRos)
    return c.refuse(
      'subscribe',
      'topic',
      `${name.slice(0, 128)} is not mapped to a Telekit topic`,
      f.id,
      'E_ROSBRIDGE_UNMAPPED',
    );
  if (type && !sameType(line, type))
    c.note('warning', `subscribe: type: ${name} is ${line.type}, not ${type.slice(0, 128)}`, f.id);
  if (compression === 'png')
    c.note('warning', 'subscribe: compression: png is not supported, sending JSON', f.id);
  const r = c.subscribe(
    topic,
    line,
    f.id ?? `subscribe:${name}`,
    Math.max(1, Math.round(queue)),
    Math.round(throttle),
    compression.startsWith('cbor'),
  );
  if (!r.ok) c.refusal('subscribe', r, f.id);
};

const unsubscribe: Handler = (c, f) => {
  const topic = f.string('topic');
  if (f.error) return c.refuse('unsubscribe', f.error.field, f.error.message, f.id);
  c.unsubscribe(topic, f.id);
};

const advertise: Handler = (c, f) => {
  const topic = f.string('topic');
  const type = f.string('type');
  f.boolean('latch');
  f.number('queue_size', 0, 1_000_000);
  if (f.error) return c.refuse('advertise', f.error.field, f.error.message, f.id);
  const name = normaliseName(topic);
  const line = c.hub.lineFor(name, type);
  if (!line?.fromRos)
    return c.refuse(
      'advertise',
      'topic',
      `${name.slice(0, 128)} is not mapped to a Telekit topic`,
      f.id,
      'E_ROSBRIDGE_UNMAPPED',
    );
  if (!sameType(line, type))
    return c.refuse(
      'advertise',
      'type',
      `${name} is ${line.type}, not ${type.slice(0, 128)}`,
      f.id,
      'E_VALIDATION',
    );
  if (c.advertised.size >= 256 && !c.advertised.has(name))
    return c.refuse('advertise', 'topic', 'too many advertised topics: at most 256', f.id);
  c.advertised.set(name, type);
};

const unadvertise: Handler = (c, f) => {
  const topic = f.string('topic');
  if (f.error) return c.refuse('unadvertise', f.error.field, f.error.message, f.id);
  c.advertised.delete(normaliseName(topic));
};

const callService: Handler = async (c, f) => {
  const service = f.string('service');
  const args = f.object('args', true);
  f.string('type', true);
  f.number('timeout', 0, 3_600);
  if (f.error) return c.refuse('call_service', f.error.field, f.error.message, f.id);
  const name = normaliseName(service);
  const answer = await c.hub.call(c, name, args ?? {}, f.number('timeout', 0, 3_600));
  c.reply({
    op: 'service_response',
    service,
    ...(f.id === undefined ? {} : { id: f.id }),
    result: answer.ok,
    values: answer.ok ? answer.values : answer.error,
  });
};

const advertiseService: Handler = (c, f) => {
  const service = f.string('service');
  const type = f.string('type');
  if (f.error) return c.refuse('advertise_service', f.error.field, f.error.message, f.id);
  const name = normaliseName(service);
  if (c.peer!.role === 'viewer')
    return c.refuse(
      'advertise_service',
      'service',
      `role viewer may not offer services`,
      f.id,
      'E_FORBIDDEN',
    );
  if (Object.hasOwn(ROSAPI, name) || !c.hub.offer(c, name, type))
    return c.refuse(
      'advertise_service',
      'service',
      `${name.slice(0, 128)} is offered already`,
      f.id,
      'E_FORBIDDEN',
    );
};

const unadvertiseService: Handler = (c, f) => {
  const service = f.string('service');
  if (f.error) return c.refuse('unadvertise_service', f.error.field, f.error.message, f.id);
  c.hub.withdraw(c, normaliseName(service));
};

const serviceResponse: Handler = (c, f) => {
  const service = f.string('service', true);
  const result = f.boolean('result');
  if (f.error) return c.refuse('service_response', f.error.field, f.error.message, f.id);
  if (f.id === undefined)
    return c.refuse('service_response', 'id', 'expected the id of the call it answers', undefined);
  if (!c.hub.answered(c, f.id, result !== false, f.any('values')))
    c.note('warning', `service_response: id: no call ${f.id} of ${service ?? 'a service'} is waiting`, f.id);
};

const setLevel: Handler = (c, f) => {
  const level = f.oneOf('level', LEVELS, 'error');
  if (f.error) return c.refuse('set_level', f.error.field, f.error.message, f.id);
  c.level = level;
};

/**
 * The op table: every op a client may send, and its handler. What is not here is answered with a
 * status naming the op (`E_ROSBRIDGE_OP`); `auth` is handled before it (it needs no session).
 */
const OPS: Readonly<Record<string, Handler>> = {
  publish,
  subscribe,
  unsubscribe,
  advertise,
  unadvertise,
  call_service: callService,
  advertise_service: advertiseService,
  unadvertise_service: unadvertiseService,
  service_response: serviceResponse,
  set_level: setLevel,
};

/** The ops the endpoint handles (for its README and the unknown-op answer). */
export const SUPPORTED_OPS: readonly string[] = ['auth', ...Object.keys(OPS)];
