import {
  builtinTopics,
  type Clock,
  type ConnectionState,
  createInProcessBus,
  type Feed,
  type InProcessBus,
  inProcessTransport,
  type OffsetEstimate,
  OffsetEstimator,
  parseMessage,
  type SubscribeOptions,
  systemClock,
  TelekitError,
  type Topic,
  type Transport,
} from '@telekit/core';
import { BehaviorSubject, Subject } from 'rxjs';
import { Manager, type Socket } from 'socket.io-client';
import {
  type Ack,
  type ClientLane,
  type EStopInfo,
  GATEWAY_PROTOCOL,
  type LeaseAnswer,
  type LeaseInfo,
  type LinkHealth,
  laneOf,
  NAMESPACES,
  type TimeAnswer,
  type Welcome,
  type WireError,
} from '../protocol.js';
import { clientParser } from '../wire-parser.js';
import type {
  ClientLinkHealth,
  GatewayClient,
  GatewayClientOptions,
  PublishOptions,
  SentCommand,
} from './client-types.js';
import { type BatchReader, readBatch } from './inbound-batch.js';
import { PendingAnswers } from './pending-answers.js';

export type {
  ClientLinkHealth,
  GatewayClient,
  GatewayClientOptions,
  PublishOptions,
  SentCommand,
} from './client-types.js';

type Lane = ClientLane;
type ConnectError = Error & { data?: { code?: string; reason?: string } };

/** Where a client keeps its socket.io sockets, for diagnostics and tests. */
export const SOCKETS = Symbol.for('@telekit/gateway/client/sockets');

/**
 * Connects to a Telekit gateway: a core `Transport` for browsers and Node. Subscriptions,
 * the lease and the clock estimate are restored by themselves after a reconnect.
 *
 * @example
 * ```ts
 * import { Topics } from '@telekit/core';
 * import { gatewayClient } from '@telekit/gateway/client';
 * const client = gatewayClient({ url: 'http://localhost:8080', token });
 * await client.connect();
 * client.subscribe(Topics.pose).subscribe((p) => console.log(p.position));
 * await client.requestControl();
 * ```
 */
export function gatewayClient(options: GatewayClientOptions): GatewayClient {
  return new SocketGatewayClient(options);
}

/**
 * The client: one socket.io connection per lane (so commands never queue behind telemetry), a local
 * in-process bus that applies the lane rules to what arrives, and the session, lease and clock
 * estimate carried across reconnects. (One class of about 450 lines: it is one state machine over
 * the two lanes' sockets; what stands alone lives beside it — the types in client-types.ts, the
 * answers awaited in pending-answers.ts, the reading of batches in inbound-batch.ts.)
 */
class SocketGatewayClient implements GatewayClient {
  readonly name = 'gateway-client';
  readonly capabilities: Transport['capabilities'] = { reconnect: true, remote: true };
  readonly [SOCKETS]: Record<Lane, Socket>;

  readonly #o: GatewayClientOptions;
  readonly #clock: Clock;
  readonly #registry: Map<string, Topic>;
  readonly #estimator = new OffsetEstimator();
  readonly #state: BehaviorSubject<ConnectionState>;
  readonly #lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  readonly #estop$ = new BehaviorSubject<EStopInfo>({ latched: false });
  readonly #health$ = new Subject<ClientLinkHealth>();
  readonly #faults$ = new Subject<WireError>();
  readonly #sent$ = new Subject<SentCommand>();
  readonly #depths = new Map<string, number>();
  readonly #welcome: Partial<Record<Lane, Welcome>> = {};
  readonly #answers = new PendingAnswers();
  readonly #sockets: Record<Lane, Socket>;
  readonly #bus: InProcessBus;
  readonly #local: Transport;
  // The last seq sent per command topic (see #inOrder).
  readonly #seqs = new Map<string, number>();
  // The session's secret, from the first welcome: the telemetry lane and reconnects present it.
  #resume: string | undefined;
  #controlWelcomed: (() => void) | undefined;
  #controlWelcome!: Promise<void>;
  // The previous time probe, reported in the next so the gateway can bound the clock offset.
  #lastProbe: { t0: number; t3: number } | undefined;
  #wantsControl = false;
  #takeover = false;
  #closed = false;
  #probeTimer: ReturnType<typeof setInterval> | undefined;
  #commandsSent = 0;
  #ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  // What arrives from the gateway: delivered locally with the lane rules, or counted and reported.
  readonly #reader: BatchReader = {
    deliver: (topic, message) => this.#bus.inject(topic, message),
    refuse: (topic, fault) => {
      this.#bus.refused(topic);
      this.#faults$.next(fault);
    },
  };

  readonly state$;
  readonly lease$;
  readonly estop$;
  readonly health$;
  readonly faults$;
  readonly sent$;

  constructor(options: GatewayClientOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#registry = new Map([...builtinTopics, ...(options.topics ?? [])].map((t) => [t.name, t]));
    this.#state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: this.#clock.now() });
    this.state$ = this.#state.asObservable();
    this.lease$ = this.#lease$.asObservable();
    this.estop$ = this.#estop$.asObservable();
    this.health$ = this.#health$.asObservable();
    this.faults$ = this.#faults$.asObservable();
    this.sent$ = this.#sent$.asObservable();
    this.#newControlWelcome();
    const controlManager = this.#manager();
    const telemetryManager = options.sharedConnection ? controlManager : this.#manager();
    this.#sockets = {
      control: this.#socket(controlManager, NAMESPACES.control),
      telemetry: this.#socket(telemetryManager, NAMESPACES.telemetry),
    };
    this[SOCKETS] = this.#sockets;
    // Local delivery: the lane rules, with control deadlines judged on this client's clock.
    this.#bus = createInProcessBus({
      clock: this.#clock,
      // A feed is live once the gateway answered its `sub`.
      liveness: 'acknowledged',
      demand: {
        open: (topic) => this.#follow(topic, 'sub'),
        close: (topic) => this.#follow(topic, 'unsub'),
      },
      offset: () => -(this.#estimator.estimate()?.offset ?? 0),
    });
    this.#local = inProcessTransport({ bus: this.#bus, validate: false, name: 'gateway-client' });
    for (const lane of ['control', 'telemetry'] as const) this.#listen(lane);
    const control = this.#sockets.control;
    control.on('lease', (h: LeaseInfo | null) => this.#lease$.next(h ?? null));
    control.on('estop', (s: EStopInfo) => this.#estop$.next(s));
    control.on('health', (h: LinkHealth) =>
      this.#health$.next({
        ...h,
        estimate: this.#estimator.estimate() ?? null,
        commandsSent: this.#commandsSent,
      }),
    );
  }

  get state(): ConnectionState {
    return this.#state.value;
  }
  get clientId(): string | undefined {
    return this.#welcome.control?.clientId ?? this.#welcome.telemetry?.clientId;
  }
  get role(): Welcome['role'] | undefined {
    return this.#welcome.control?.role;
  }
  get displayName(): string | undefined {
    return this.#welcome.control?.name;
  }
  get holdsControl(): boolean {
    return this.#lease$.value !== null && this.#lease$.value.id === this.clientId;
  }
  get estimate(): OffsetEstimate | undefined {
    return this.#estimator.estimate();
  }

  connect(): Promise<void> {
    if (this.#closed)
      return Promise.reject(
        new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', { operation: 'connect' }),
      );
    if (this.#state.value.status === 'connected') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.#setState('connecting');
    for (const s of Object.values(this.#sockets)) if (!s.connected) s.connect();
    this.#probeTimer ??= setInterval(() => void this.#probe(), this.#o.probeIntervalMs ?? 2_000);
    const timeout = this.#o.connectTimeoutMs ?? 10_000;
    return Promise.race([
      done,
      new Promise<never>((_, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new TelekitError('E_TIMEOUT', 'could not reach the gateway', {
                operation: 'connect',
                context: { url: this.#o.url, ms: timeout },
              }),
            ),
          timeout,
        );
        void done.finally(() => clearTimeout(t)).catch(() => undefined);
      }),
    ]);
  }

  publish<T>(topic: Topic<T>, message: T, opts?: PublishOptions): void {
    if (this.#closed) {
      throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
        operation: 'publish',
        context: { topic: topic.name },
      });
    }
    const valid = this.#inOrder(topic, parseMessage(topic, message));
    const socket = this.#sockets[laneOf(topic)];
    // A command is for now: while the link is down it is dropped, never queued.
    if (!socket.connected) {
      this.#faults$.next({
        code: 'E_NOT_CONNECTED',
        message: 'not connected: message dropped',
        topic: topic.name,
      });
      return;
    }
    // No acknowledgement: a refusal comes back as a fault, and a command costs one frame.
    if (topic.lane !== 'control') {
      socket.emit('pub', topic.name, valid);
      return;
    }
    this.#commandsSent++;
    const input = opts?.inputAt;
    const header = (valid as { header: { seq: number } }).header;
    const stamped = input !== undefined && Number.isFinite(input);
    // The input's moment rides in the header for the gateway's latency budget (the header's
    // schema does not know it: the gateway reads it, then validation drops it).
    socket.emit('pub', topic.name, stamped ? { ...(valid as object), header: { ...header, input } } : valid);
    this.#sent$.next({
      topic: topic.name,
      seq: header.seq,
      ...(stamped ? { inputAt: input } : {}),
      sentAt: this.#clock.now(),
    });
  }

  subscribe<T>(topic: Topic<T>, opts: SubscribeOptions = {}): Feed<T> {
    if (opts.depth !== undefined) this.#depths.set(topic.name, opts.depth);
    if (!this.#registry.has(topic.name)) this.#registry.set(topic.name, topic as Topic);
    return this.#local.subscribe(topic, opts);
  }

  requestControl(opts: { takeover?: boolean } = {}): Promise<LeaseAnswer> {
    this.#wantsControl = true;
    this.#takeover = opts.takeover ?? false;
    if (!this.#sockets.control.connected) {
      return Promise.reject(
        new TelekitError('E_NOT_CONNECTED', 'not connected', { operation: 'requestControl' }),
      );
    }
    const action = this.#takeover ? 'takeover' : 'acquire';
    return this.#answers.ask<LeaseAnswer>(this.#sockets.control, 'lease', { action }).then((answer) => {
      if (answer.granted) this.#lease$.next(answer.holder);
      else this.#wantsControl = false; // someone else has it now: don't fight for it after reconnects
      return answer;
    });
  }

  releaseControl(): Promise<void> {
    this.#wantsControl = false;
    if (!this.#sockets.control.connected) return Promise.resolve();
    return this.#answers.ask(this.#sockets.control, 'lease', { action: 'release' }).then(
      () => undefined,
      () => undefined,
    );
  }

  topic(name: string): Topic | undefined {
    return this.#registry.get(name);
  }

  request<B, A>(topic: Topic<B, string, A>, body: B): Promise<A>;
  request<A = unknown>(topic: string, body: unknown): Promise<A>;
  async request(of: string | Topic, body: unknown): Promise<unknown> {
    const topic = typeof of === 'string' ? of : of.name;
    if (!this.#sockets.telemetry.connected) {
      throw new TelekitError('E_NOT_CONNECTED', 'not connected', {
        operation: 'request',
        context: { topic },
      });
    }
    const a = await this.#answers.ask<{ ok: true; answer: unknown } | { ok: false; error: WireError }>(
      this.#sockets.telemetry,
      'req',
      topic,
      10_000,
      body,
    );
    if (!a.ok)
      throw new TelekitError(a.error.code, a.error.message, { operation: 'request', context: { topic } });
    return a.answer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#probeTimer) clearInterval(this.#probeTimer);
    this.#answers.failAll(new TelekitError('E_TRANSPORT_CLOSED', 'transport closed', { operation: 'close' }));
    for (const s of Object.values(this.#sockets)) {
      s.removeAllListeners();
      s.disconnect();
    }
    await this.#local.close();
    this.#ready?.reject(
      new TelekitError('E_TRANSPORT_CLOSED', 'transport closed while connecting', { operation: 'connect' }),
    );
    this.#ready = undefined;
    this.#state.next({ status: 'closed', since: this.#clock.now(), reason: 'closed by owner' });
    this.#state.complete();
    for (const s of [this.#lease$, this.#estop$, this.#health$, this.#faults$, this.#sent$]) s.complete();
  }

  #setState(status: ConnectionState['status'], reason?: string): void {
    if (this.#state.value.status === status || this.#state.value.status === 'closed') return;
    this.#state.next({ status, since: this.#clock.now(), ...(reason === undefined ? {} : { reason }) });
  }

  #newControlWelcome(): void {
    this.#controlWelcome = new Promise<void>((r) => (this.#controlWelcomed = r));
  }

  #manager(): Manager {
    const o = this.#o;
    return new Manager(o.url, {
      autoConnect: false,
      transports: o.polling ? ['polling', 'websocket'] : ['websocket'],
      parser: clientParser,
      reconnectionDelay: o.reconnectDelayMs ?? 250,
      reconnectionDelayMax: o.reconnectDelayMaxMs ?? 3_000,
      timeout: o.connectTimeoutMs ?? 10_000,
    });
  }

  #socket(manager: Manager, namespace: string): Socket {
    return manager.socket(namespace, {
      auth: (cb) => {
        const t = this.#o.token;
        // The telemetry lane joins the session the control lane was welcomed into.
        const after = namespace === NAMESPACES.telemetry ? this.#controlWelcome : Promise.resolve();
        void after
          .then(() => (typeof t === 'function' ? t() : t))
          .then(
            (token) =>
              cb({
                ...(token === undefined ? {} : { token }),
                ...(this.#resume ? { resume: this.#resume } : {}),
              }),
            () => cb(this.#resume ? { resume: this.#resume } : {}),
          );
      },
    });
  }

  /**
   * The gateway judges a session's commands in order by seq. A command keeps its own seq when that
   * is after the last one sent on its topic; when several publishers in one client (a pad, a
   * gamepad, a script) number their commands independently, the later one is moved just after it.
   */
  #inOrder<T>(topic: Topic, msg: T): T {
    if (topic.lane !== 'control') return msg;
    const m = msg as { header: { seq: number } };
    const last = this.#seqs.get(topic.name);
    const seq = last === undefined || m.header.seq > last ? m.header.seq : last + 1;
    this.#seqs.set(topic.name, seq);
    return seq === m.header.seq ? msg : ({ ...m, header: { ...m.header, seq } } as T);
  }

  /** Asks the gateway to start or stop sending a topic (sent again on reconnect). */
  #follow(topic: Topic, verb: 'sub' | 'unsub'): void {
    const socket = this.#sockets[laneOf(topic)];
    if (!socket.connected) return; // sent on (re)connect
    const depth = this.#depths.get(topic.name);
    const args = verb === 'sub' && depth !== undefined ? { topic: topic.name, depth } : { topic: topic.name };
    socket.emit(verb, args, (ack: Ack) => {
      if (!ack.ok) this.#faults$.next(ack.error);
      else if (verb === 'sub' && socket.connected) this.#bus.setLive(topic, true);
    });
  }

  /** One clock probe on the control lane (an NTP-style exchange). */
  #probe(): Promise<void> {
    const socket = this.#sockets.control;
    if (!socket.connected) return Promise.resolve();
    const t0 = this.#clock.now();
    const last = this.#lastProbe;
    this.#lastProbe = undefined;
    return this.#answers.ask<TimeAnswer>(socket, 'time', { t0, ...(last ? { last } : {}) }).then(
      (a) => {
        if (!a || typeof a.t1 !== 'number') return;
        const t3 = this.#clock.now();
        this.#lastProbe = { t0, t3 };
        this.#estimator.add({ t0, t1: a.t1, t2: a.t2, t3 });
      },
      () => undefined,
    );
  }

  #bothReady(): boolean {
    const s = this.#sockets;
    return Boolean(
      s.control.connected && s.telemetry.connected && this.#welcome.control && this.#welcome.telemetry,
    );
  }

  async #onReady(): Promise<void> {
    if (!this.#bothReady()) return;
    // A fresh estimate before the first command, so deadlines are judged on the right clock.
    this.#estimator.reset();
    for (let i = 0; i < 4; i++) await this.#probe();
    if (!this.#bothReady()) return;
    this.#setState('connected');
    if (this.#wantsControl) void this.requestControl({ takeover: this.#takeover }).catch(() => undefined);
    this.#ready?.resolve();
    this.#ready = undefined;
  }

  #listen(lane: Lane): void {
    const socket = this.#sockets[lane];
    socket.on('welcome', (w: Welcome) => this.#onWelcome(lane, w));
    socket.on('b', (batch: unknown) => readBatch(batch, this.#registry, this.#reader));
    socket.on('fault', (e: WireError) => this.#faults$.next(e));
    socket.on('connect_error', (err: ConnectError) => this.#onConnectError(socket, err));
    socket.on('disconnect', (reason) => {
      delete this.#welcome[lane];
      for (const topic of this.#bus.topics) if (laneOf(topic) === lane) this.#bus.setLive(topic, false);
      if (lane === 'control') this.#newControlWelcome();
      if (this.#closed) return;
      this.#setState(socket.active ? 'reconnecting' : 'disconnected', reason);
    });
  }

  #onWelcome(lane: Lane, w: Welcome): void {
    if (w?.protocol !== GATEWAY_PROTOCOL) {
      this.#faults$.next({
        code: 'E_PROTOCOL',
        message: `gateway speaks ${String(w?.protocol)}, this client ${GATEWAY_PROTOCOL}`,
      });
    }
    this.#welcome[lane] = w;
    if (lane === 'control') {
      const changed = this.#resume !== undefined && this.#resume !== w.resume;
      this.#resume = w.resume;
      this.#lastProbe = undefined;
      this.#lease$.next(w.lease);
      this.#estop$.next(w.estop);
      this.#controlWelcomed?.();
      // A new session (the old one ended while both lanes were down): the telemetry lane joins it.
      const telemetry = this.#sockets.telemetry;
      if (changed && telemetry.connected && this.#welcome.telemetry?.clientId !== w.clientId) {
        telemetry.disconnect().connect();
      }
    }
    // Restore what this lane had.
    for (const topic of this.#bus.topics) if (laneOf(topic) === lane) this.#follow(topic, 'sub');
    void this.#onReady();
  }

  #onConnectError(socket: Socket, err: ConnectError): void {
    if (err.data?.code === 'E_AUTH') {
      // The gateway's message already carries the reason as [reason:…].
      const e = new TelekitError('E_AUTH', `gateway refused the connection: ${err.message}`, {
        operation: 'connect',
        cause: err.data,
      });
      this.#setState('disconnected', err.message);
      this.#ready?.reject(e);
      this.#ready = undefined;
      // A refused token will not get better by retrying with it.
      for (const s of Object.values(this.#sockets)) s.disconnect();
      return;
    }
    // Refused for now, not for good (the session's lane was still live, or a penalty): socket.io
    // does not retry a refused handshake by itself, so try again after the reconnect delay.
    if (err.data?.code === 'E_SESSION_IN_USE' || err.data?.code === 'E_ABUSE') {
      const delay = err.data.code === 'E_ABUSE' ? 5_000 : (this.#o.reconnectDelayMs ?? 250);
      setTimeout(() => {
        if (!this.#closed && !socket.connected) socket.connect();
      }, delay);
    }
    if (this.#state.value.status === 'connected') this.#setState('reconnecting', err.message);
  }
}
