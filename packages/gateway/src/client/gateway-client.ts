import {
  type Clock,
  type ConnectionState,
  createInProcessBus,
  type Feed,
  type InProcessBus,
  inProcessTransport,
  parseMessage,
  type SubscribeOptions,
  systemClock,
  TelekitError,
  type Topic,
  type Transport,
} from '@telekit/core';
import { builtinTopics } from '@telekit/core/schemas';
import { type OffsetEstimate, OffsetEstimator } from '@telekit/core/transport';
import { BehaviorSubject, Subject } from 'rxjs';
import { Manager, type Socket } from 'socket.io-client';
import {
  type Ack,
  type ClientLane,
  type ControlLane,
  type EStopInfo,
  GATEWAY_PROTOCOL,
  type LeaseAnswer,
  type LeaseInfo,
  type LinkHealth,
  laneOf,
  NAMESPACES,
  STREAMED_TOPICS,
  type TimeAnswer,
  type Welcome,
  type WireError,
} from '../protocol.js';
import { clientParser } from '../wire-parser.js';
import type {
  ClientLinkHealth,
  ControlLaneInfo,
  GatewayClient,
  GatewayClientOptions,
  PublishOptions,
  SentCommand,
} from './client-types.js';
import { ClientDataLane } from './data-lane.js';
import { type BatchReader, readBatch } from './inbound-batch.js';
import { PendingAnswers } from './pending-answers.js';

export type {
  ClientLinkHealth,
  ControlLaneInfo,
  DataChannelInfo,
  GatewayClient,
  GatewayClientOptions,
  PublishOptions,
  RtcPeerConnectionFactory,
  SentCommand,
} from './client-types.js';

type Lane = ClientLane;
const ESTOP = '/controller/estop';
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
 * answers awaited in pending-answers.ts, the reading of batches in inbound-batch.ts.) Its state
 * is TypeScript-private, not `#private`: a client reached through a Proxy (a framework's reactive
 * wrapper, a test spy) must still work, and `#` fields throw when `this` is a proxy.
 */
class SocketGatewayClient implements GatewayClient {
  readonly name = 'gateway-client';
  readonly capabilities: Transport['capabilities'] = { reconnect: true, remote: true };
  readonly [SOCKETS]: Record<Lane, Socket>;

  private readonly _o: GatewayClientOptions;
  private readonly _clock: Clock;
  private readonly _registry: Map<string, Topic>;
  private readonly _estimator = new OffsetEstimator();
  private readonly _state: BehaviorSubject<ConnectionState>;
  private readonly _lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  private readonly _estop$ = new BehaviorSubject<EStopInfo>({ latched: false });
  private readonly _health$ = new Subject<ClientLinkHealth>();
  private readonly _faults$ = new Subject<WireError>();
  private readonly _sent$ = new Subject<SentCommand>();
  private readonly _depths = new Map<string, number>();
  private readonly _welcome: Partial<Record<Lane, Welcome>> = {};
  private readonly _answers = new PendingAnswers();
  private readonly _sockets: Record<Lane, Socket>;
  private readonly _bus: InProcessBus;
  // The DataChannel lane for streamed commands, when this client may use one.
  private readonly _dataLane: ClientDataLane | undefined;
  private readonly _lane$: BehaviorSubject<ControlLaneInfo>;
  private _laneRetry: ReturnType<typeof setTimeout> | undefined;
  private _laneBackoffMs = 0;
  private readonly _local: Transport;
  // The last seq sent per command topic (see _inOrder).
  private readonly _seqs = new Map<string, number>();
  // The session's secret, from the first welcome: the telemetry lane and reconnects present it.
  private _resume: string | undefined;
  private _controlWelcomed: (() => void) | undefined;
  private _controlWelcome!: Promise<void>;
  // The previous time probe, reported in the next so the gateway can bound the clock offset.
  private _lastProbe: { t0: number; t3: number } | undefined;
  private _wantsControl = false;
  private _takeover = false;
  private _closed = false;
  private _probeTimer: ReturnType<typeof setInterval> | undefined;
  private _commandsSent = 0;
  private _ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  // What arrives from the gateway: delivered locally with the lane rules, or counted and reported.
  private readonly _reader: BatchReader = {
    deliver: (topic, message) => this._bus.inject(topic, message),
    refuse: (topic, fault) => {
      this._bus.refused(topic);
      this._faults$.next(fault);
    },
  };

  readonly state$;
  readonly lease$;
  readonly estop$;
  readonly health$;
  readonly faults$;
  readonly sent$;
  readonly lane$;

  constructor(options: GatewayClientOptions) {
    this._o = options;
    this._clock = options.clock ?? systemClock;
    this._registry = new Map([...builtinTopics, ...(options.topics ?? [])].map((t) => [t.name, t]));
    this._state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: this._clock.now() });
    this.state$ = this._state.asObservable();
    this.lease$ = this._lease$.asObservable();
    this.estop$ = this._estop$.asObservable();
    this.health$ = this._health$.asObservable();
    this.faults$ = this._faults$.asObservable();
    this.sent$ = this._sent$.asObservable();
    const mode = options.controlLane ?? 'auto';
    const factory =
      options.rtc?.peerConnection ??
      (typeof globalThis.RTCPeerConnection === 'function'
        ? (c: RTCConfiguration) => new globalThis.RTCPeerConnection(c)
        : undefined);
    this._dataLane =
      mode !== 'socket.io' && factory
        ? new ClientDataLane({
            clock: this._clock,
            factory,
            configuration: options.rtc?.configuration ?? {},
            openTimeoutMs: options.rtc?.openTimeoutMs ?? 5_000,
            silenceMs: options.rtc?.silenceMs ?? 1_000,
            signal: (m) => this._answers.ask(this._sockets.control, 'rtc', m, 10_000),
            changed: () => this._laneChanged(),
          })
        : undefined;
    this._lane$ = new BehaviorSubject<ControlLaneInfo>({
      mode,
      lane: 'socket.io',
      dataChannel: {
        state: 'off',
        reason:
          mode === 'socket.io'
            ? "controlLane is 'socket.io'"
            : factory
              ? 'opened after the handshake'
              : 'no RTCPeerConnection here (give one in options.rtc.peerConnection)',
        rtt: null,
      },
    });
    this.lane$ = this._lane$.asObservable();
    this._newControlWelcome();
    const controlManager = this._manager();
    const telemetryManager = options.sharedConnection ? controlManager : this._manager();
    this._sockets = {
      control: this._socket(controlManager, NAMESPACES.control),
      telemetry: this._socket(telemetryManager, NAMESPACES.telemetry),
    };
    this[SOCKETS] = this._sockets;
    // Local delivery: the lane rules, with control deadlines judged on this client's clock.
    this._bus = createInProcessBus({
      clock: this._clock,
      // A feed is live once the gateway answered its `sub`.
      liveness: 'acknowledged',
      demand: {
        open: (topic) => this._follow(topic, 'sub'),
        close: (topic) => this._follow(topic, 'unsub'),
      },
      offset: () => -(this._estimator.estimate()?.offset ?? 0),
    });
    this._local = inProcessTransport({ bus: this._bus, validate: false, name: 'gateway-client' });
    for (const lane of ['control', 'telemetry'] as const) this._listen(lane);
    const control = this._sockets.control;
    control.on('lease', (h: LeaseInfo | null) => this._lease$.next(h ?? null));
    control.on('estop', (s: EStopInfo) => this._estop$.next(s));
    control.on('health', (h: LinkHealth) =>
      this._health$.next({
        ...h,
        estimate: this._estimator.estimate() ?? null,
        commandsSent: this._commandsSent,
        controlLane: this.controlLane,
        lane: this._laneInfo(),
      }),
    );
  }

  get state(): ConnectionState {
    return this._state.value;
  }
  get clientId(): string | undefined {
    return this._welcome.control?.clientId ?? this._welcome.telemetry?.clientId;
  }
  get role(): Welcome['role'] | undefined {
    return this._welcome.control?.role;
  }
  get displayName(): string | undefined {
    return this._welcome.control?.name;
  }
  get holdsControl(): boolean {
    return this._lease$.value !== null && this._lease$.value.id === this.clientId;
  }
  get estimate(): OffsetEstimate | undefined {
    return this._estimator.estimate();
  }
  get controlLane(): ControlLane {
    return this._dataLane?.open ? 'datachannel' : 'socket.io';
  }

  connect(): Promise<void> {
    if (this._closed)
      return Promise.reject(
        new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', { operation: 'connect' }),
      );
    if (this._state.value.status === 'connected') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this._ready = { resolve, reject };
    });
    this._setState('connecting');
    for (const s of Object.values(this._sockets)) if (!s.connected) s.connect();
    this._probeTimer ??= setInterval(() => void this._probe(), this._o.probeIntervalMs ?? 2_000);
    const timeout = this._o.connectTimeoutMs ?? 10_000;
    return Promise.race([
      done,
      new Promise<never>((_, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new TelekitError('E_TIMEOUT', 'could not reach the gateway', {
                operation: 'connect',
                context: { url: this._o.url, ms: timeout },
              }),
            ),
          timeout,
        );
        void done.finally(() => clearTimeout(t)).catch(() => undefined);
      }),
    ]);
  }

  publish<T>(topic: Topic<T>, message: T, opts?: PublishOptions): void {
    if (this._closed) {
      throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
        operation: 'publish',
        context: { topic: topic.name },
      });
    }
    const valid = this._inOrder(topic, parseMessage(topic, message));
    const socket = this._sockets[laneOf(topic)];
    const streamed = STREAMED_TOPICS.has(topic.name);
    // With controlLane 'datachannel', streamed commands go over the DataChannel or nowhere.
    const only = streamed && this._o.controlLane === 'datachannel' && !this._dataLane?.open;
    // A command is for now: while the link is down it is dropped, never queued.
    if (!socket.connected || only) {
      this._faults$.next({
        code: 'E_NOT_CONNECTED',
        message: only
          ? 'the DataChannel is not open (controlLane is datachannel): command dropped'
          : 'not connected: message dropped',
        topic: topic.name,
      });
      return;
    }
    // No acknowledgement: a refusal comes back as a fault, and a command costs one frame.
    if (topic.lane !== 'control') {
      socket.emit('pub', topic.name, valid);
      return;
    }
    this._commandsSent++;
    const input = opts?.inputAt;
    const header = (valid as { header: { seq: number } }).header;
    const stamped = input !== undefined && Number.isFinite(input);
    // The input's moment rides in the header for the gateway's latency budget (the header's
    // schema does not know it: the gateway reads it, then validation drops it).
    const out = stamped ? { ...(valid as object), header: { ...header, input } } : valid;
    let lane: ControlLane = 'socket.io';
    if (streamed && this._dataLane?.send(topic.name, out)) lane = 'datachannel';
    else socket.emit('pub', topic.name, out);
    // An e-stop engage also rides the DataChannel: whichever copy arrives first latches it.
    if (topic.name === ESTOP && (valid as { engage?: boolean }).engage) this._dataLane?.send(topic.name, out);
    this._sent$.next({
      topic: topic.name,
      seq: header.seq,
      lane,
      ...(stamped ? { inputAt: input } : {}),
      sentAt: this._clock.now(),
    });
  }

  subscribe<T>(topic: Topic<T>, opts: SubscribeOptions = {}): Feed<T> {
    if (opts.depth !== undefined) this._depths.set(topic.name, opts.depth);
    if (!this._registry.has(topic.name)) this._registry.set(topic.name, topic as Topic);
    return this._local.subscribe(topic, opts);
  }

  requestControl(opts: { takeover?: boolean } = {}): Promise<LeaseAnswer> {
    this._wantsControl = true;
    this._takeover = opts.takeover ?? false;
    if (!this._sockets.control.connected) {
      return Promise.reject(
        new TelekitError('E_NOT_CONNECTED', 'not connected', { operation: 'requestControl' }),
      );
    }
    const action = this._takeover ? 'takeover' : 'acquire';
    return this._answers.ask<LeaseAnswer>(this._sockets.control, 'lease', { action }).then((answer) => {
      if (answer.granted) this._lease$.next(answer.holder);
      else this._wantsControl = false; // someone else has it now: don't fight for it after reconnects
      return answer;
    });
  }

  releaseControl(): Promise<void> {
    this._wantsControl = false;
    if (!this._sockets.control.connected) return Promise.resolve();
    return this._answers.ask(this._sockets.control, 'lease', { action: 'release' }).then(
      () => undefined,
      () => undefined,
    );
  }

  topic(name: string): Topic | undefined {
    return this._registry.get(name);
  }

  request<B, A>(topic: Topic<B, string, A>, body: B): Promise<A>;
  request<A = unknown>(topic: string, body: unknown): Promise<A>;
  async request(of: string | Topic, body: unknown): Promise<unknown> {
    const topic = typeof of === 'string' ? of : of.name;
    if (!this._sockets.telemetry.connected) {
      throw new TelekitError('E_NOT_CONNECTED', 'not connected', {
        operation: 'request',
        context: { topic },
      });
    }
    const a = await this._answers.ask<{ ok: true; answer: unknown } | { ok: false; error: WireError }>(
      this._sockets.telemetry,
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
    if (this._closed) return;
    this._closed = true;
    if (this._probeTimer) clearInterval(this._probeTimer);
    if (this._laneRetry) clearTimeout(this._laneRetry);
    this._dataLane?.stop('the client closed');
    this._answers.failAll(new TelekitError('E_TRANSPORT_CLOSED', 'transport closed', { operation: 'close' }));
    for (const s of Object.values(this._sockets)) {
      s.removeAllListeners();
      s.disconnect();
    }
    await this._local.close();
    this._ready?.reject(
      new TelekitError('E_TRANSPORT_CLOSED', 'transport closed while connecting', { operation: 'connect' }),
    );
    this._ready = undefined;
    this._state.next({ status: 'closed', since: this._clock.now(), reason: 'closed by owner' });
    this._state.complete();
    for (const s of [this._lease$, this._estop$, this._health$, this._faults$, this._sent$, this._lane$])
      s.complete();
  }

  /** Opens the DataChannel lane (after the handshake); on failure, tries again later by itself. */
  private _openDataLane(): void {
    const lane = this._dataLane;
    if (!lane || this._closed || lane.state === 'open' || lane.state === 'connecting') return;
    if (this._laneRetry) clearTimeout(this._laneRetry);
    this._laneRetry = undefined;
    lane.start().then(
      () => {
        this._laneBackoffMs = 0;
      },
      () => {
        if (this._closed || lane.state === 'off' || !this._sockets.control.connected) return;
        // Failed (no UDP, ICE failed, no answer): socket.io carries on; another try later.
        this._laneBackoffMs = Math.min(Math.max(this._laneBackoffMs * 2, 2_000), 30_000);
        this._laneRetry = setTimeout(() => {
          this._laneRetry = undefined;
          if (this._sockets.control.connected) this._openDataLane();
        }, this._laneBackoffMs);
      },
    );
  }

  private _laneInfo(): ControlLaneInfo {
    return {
      mode: this._o.controlLane ?? 'auto',
      lane: this.controlLane,
      dataChannel: this._dataLane?.info() ?? this._lane$.value.dataChannel,
    };
  }

  private _laneChanged(): void {
    if (this._closed) return;
    const info = this._laneInfo();
    const last = this._lane$.value;
    if (info.lane === last.lane && info.dataChannel.state === last.dataChannel.state) return;
    this._lane$.next(info);
    // Died while it carried the commands: the next one goes over socket.io, and a new try follows.
    if (info.dataChannel.state === 'failed' && last.dataChannel.state === 'open') this._openDataLaneLater();
  }

  private _openDataLaneLater(): void {
    if (this._laneRetry || this._closed) return;
    this._laneBackoffMs = Math.min(Math.max(this._laneBackoffMs * 2, 1_000), 30_000);
    this._laneRetry = setTimeout(() => {
      this._laneRetry = undefined;
      if (this._sockets.control.connected) this._openDataLane();
    }, this._laneBackoffMs);
  }

  private _setState(status: ConnectionState['status'], reason?: string): void {
    if (this._state.value.status === status || this._state.value.status === 'closed') return;
    this._state.next({ status, since: this._clock.now(), ...(reason === undefined ? {} : { reason }) });
  }

  private _newControlWelcome(): void {
    this._controlWelcome = new Promise<void>((r) => (this._controlWelcomed = r));
  }

  private _manager(): Manager {
    const o = this._o;
    return new Manager(o.url, {
      autoConnect: false,
      transports: o.polling ? ['polling', 'websocket'] : ['websocket'],
      parser: clientParser,
      reconnectionDelay: o.reconnectDelayMs ?? 250,
      reconnectionDelayMax: o.reconnectDelayMaxMs ?? 3_000,
      timeout: o.connectTimeoutMs ?? 10_000,
    });
  }

  private _socket(manager: Manager, namespace: string): Socket {
    return manager.socket(namespace, {
      auth: (cb) => {
        const t = this._o.token;
        // The telemetry lane joins the session the control lane was welcomed into.
        const after = namespace === NAMESPACES.telemetry ? this._controlWelcome : Promise.resolve();
        void after
          .then(() => (typeof t === 'function' ? t() : t))
          .then(
            (token) =>
              cb({
                ...(token === undefined ? {} : { token }),
                ...(this._resume ? { resume: this._resume } : {}),
              }),
            () => cb(this._resume ? { resume: this._resume } : {}),
          );
      },
    });
  }

  /**
   * The gateway judges a session's commands in order by seq. A command keeps its own seq when that
   * is after the last one sent on its topic; when several publishers in one client (a pad, a
   * gamepad, a script) number their commands independently, the later one is moved just after it.
   */
  private _inOrder<T>(topic: Topic, msg: T): T {
    if (topic.lane !== 'control') return msg;
    const m = msg as { header: { seq: number } };
    const last = this._seqs.get(topic.name);
    const seq = last === undefined || m.header.seq > last ? m.header.seq : last + 1;
    this._seqs.set(topic.name, seq);
    return seq === m.header.seq ? msg : ({ ...m, header: { ...m.header, seq } } as T);
  }

  /** Asks the gateway to start or stop sending a topic (sent again on reconnect). */
  private _follow(topic: Topic, verb: 'sub' | 'unsub'): void {
    const socket = this._sockets[laneOf(topic)];
    if (!socket.connected) return; // sent on (re)connect
    const depth = this._depths.get(topic.name);
    const args = verb === 'sub' && depth !== undefined ? { topic: topic.name, depth } : { topic: topic.name };
    socket.emit(verb, args, (ack: Ack) => {
      if (!ack.ok) this._faults$.next(ack.error);
      else if (verb === 'sub' && socket.connected) this._bus.setLive(topic, true);
    });
  }

  /** One clock probe on the control lane (an NTP-style exchange). */
  private _probe(): Promise<void> {
    const socket = this._sockets.control;
    if (!socket.connected) return Promise.resolve();
    const t0 = this._clock.now();
    const last = this._lastProbe;
    this._lastProbe = undefined;
    return this._answers.ask<TimeAnswer>(socket, 'time', { t0, ...(last ? { last } : {}) }).then(
      (a) => {
        if (!a || typeof a.t1 !== 'number') return;
        const t3 = this._clock.now();
        this._lastProbe = { t0, t3 };
        this._estimator.add({ t0, t1: a.t1, t2: a.t2, t3 });
      },
      () => undefined,
    );
  }

  private _bothReady(): boolean {
    const s = this._sockets;
    return Boolean(
      s.control.connected && s.telemetry.connected && this._welcome.control && this._welcome.telemetry,
    );
  }

  private async _onReady(): Promise<void> {
    if (!this._bothReady()) return;
    // A fresh estimate before the first command, so deadlines are judged on the right clock.
    this._estimator.reset();
    for (let i = 0; i < 4; i++) await this._probe();
    if (!this._bothReady()) return;
    this._setState('connected');
    if (this._wantsControl) void this.requestControl({ takeover: this._takeover }).catch(() => undefined);
    this._openDataLane();
    this._ready?.resolve();
    this._ready = undefined;
  }

  private _listen(lane: Lane): void {
    const socket = this._sockets[lane];
    socket.on('welcome', (w: Welcome) => this._onWelcome(lane, w));
    const validation = this._o.inboundValidation ?? 'gateway';
    socket.on('b', (batch: unknown) => readBatch(batch, this._registry, this._reader, validation));
    socket.on('fault', (e: WireError) => this._faults$.next(e));
    socket.on('connect_error', (err: ConnectError) => this._onConnectError(socket, err));
    socket.on('disconnect', (reason) => {
      delete this._welcome[lane];
      for (const topic of this._bus.topics) if (laneOf(topic) === lane) this._bus.setLive(topic, false);
      if (lane === 'control') {
        this._newControlWelcome();
        if (this._laneRetry) clearTimeout(this._laneRetry);
        this._laneRetry = undefined;
        this._dataLane?.stop('the control connection is down');
      }
      if (this._closed) return;
      this._setState(socket.active ? 'reconnecting' : 'disconnected', reason);
    });
  }

  private _onWelcome(lane: Lane, w: Welcome): void {
    if (w?.protocol !== GATEWAY_PROTOCOL) {
      this._faults$.next({
        code: 'E_PROTOCOL',
        message: `gateway speaks ${String(w?.protocol)}, this client ${GATEWAY_PROTOCOL}`,
      });
    }
    this._welcome[lane] = w;
    if (lane === 'control') {
      const changed = this._resume !== undefined && this._resume !== w.resume;
      this._resume = w.resume;
      this._lastProbe = undefined;
      this._lease$.next(w.lease);
      this._estop$.next(w.estop);
      this._controlWelcomed?.();
      // A new session (the old one ended while both lanes were down): the telemetry lane joins it.
      const telemetry = this._sockets.telemetry;
      if (changed && telemetry.connected && this._welcome.telemetry?.clientId !== w.clientId) {
        telemetry.disconnect().connect();
      }
    }
    // Restore what this lane had.
    for (const topic of this._bus.topics) if (laneOf(topic) === lane) this._follow(topic, 'sub');
    void this._onReady();
  }

  private _onConnectError(socket: Socket, err: ConnectError): void {
    if (err.data?.code === 'E_AUTH') {
      // The gateway's message already carries the reason as [reason:…].
      const e = new TelekitError('E_AUTH', `gateway refused the connection: ${err.message}`, {
        operation: 'connect',
        cause: err.data,
      });
      this._setState('disconnected', err.message);
      this._ready?.reject(e);
      this._ready = undefined;
      // A refused token will not get better by retrying with it.
      for (const s of Object.values(this._sockets)) s.disconnect();
      return;
    }
    // Refused for now, not for good (the session's lane was still live, or a penalty): socket.io
    // does not retry a refused handshake by itself, so try again after the reconnect delay.
    if (err.data?.code === 'E_SESSION_IN_USE' || err.data?.code === 'E_ABUSE') {
      const delay = err.data.code === 'E_ABUSE' ? 5_000 : (this._o.reconnectDelayMs ?? 250);
      setTimeout(() => {
        if (!this._closed && !socket.connected) socket.connect();
      }, delay);
    }
    if (this._state.value.status === 'connected') this._setState('reconnecting', err.message);
  }
}
