import {
  type Clock,
  type ConnectionState,
  type Feed,
  type SubscribeOptions,
  systemClock,
  TelekitError,
  type Topic,
  type Transport,
} from '@telekit/core';
import type { OffsetEstimate } from '@telekit/core/transport';
import { BehaviorSubject, Subject } from 'rxjs';
import type { Socket } from 'socket.io-client';
import {
  type ClientLane,
  type ControlLane,
  type EStopInfo,
  GATEWAY_PROTOCOL,
  type LeaseAnswer,
  type LinkHealth,
  type Welcome,
  type WireError,
} from '../protocol.js';
import { ClientFeeds } from './client-feeds.js';
import { ClientPublisher } from './client-publisher.js';
import type {
  ClientLinkHealth,
  GatewayClient,
  GatewayClientOptions,
  PublishOptions,
} from './client-types.js';
import { ClockSync } from './clock-sync.js';
import { ControlLease } from './control-lease.js';
import type { ClientDataLane } from './data-lane.js';
import { DataLaneHookup } from './data-lane-hookup.js';
import { laneSockets } from './lane-sockets.js';
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
 * estimate carried across reconnects. This class is the state machine over the two lanes' sockets:
 * the handshake, the welcomes, the connection's state. What stands alone lives beside it: the
 * sockets and their handshake (lane-sockets.ts), what arrives and is followed (client-feeds.ts),
 * what is sent (client-publisher.ts), the clock probes (clock-sync.ts), the lease
 * (control-lease.ts), the DataChannel lane (data-lane-hookup.ts), the types (client-types.ts), the
 * answers awaited (pending-answers.ts). Its state is TypeScript-private, not `#private`: a client
 * reached through a Proxy (a framework's reactive wrapper, a test spy) must still work, and `#`
 * fields throw when `this` is a proxy.
 */
class SocketGatewayClient implements GatewayClient {
  readonly name = 'gateway-client';
  readonly capabilities: Transport['capabilities'] = { reconnect: true, remote: true };
  readonly [SOCKETS]: Record<Lane, Socket>;

  private readonly _o: GatewayClientOptions;
  private readonly _clock: Clock;
  private readonly _state: BehaviorSubject<ConnectionState>;
  private readonly _estop$ = new BehaviorSubject<EStopInfo>({ latched: false });
  private readonly _health$ = new Subject<ClientLinkHealth>();
  private readonly _faults$ = new Subject<WireError>();
  private readonly _welcome: Partial<Record<Lane, Welcome>> = {};
  private readonly _answers = new PendingAnswers();
  private readonly _sockets: Record<Lane, Socket>;
  private readonly _feeds: ClientFeeds;
  private readonly _sync: ClockSync;
  private readonly _lease: ControlLease;
  // The DataChannel lane for streamed commands, when this client may use one, and lane$.
  private readonly _lanes: DataLaneHookup;
  // The DataChannel lane itself, by the name the DataChannel tests reach it by to break it.
  private readonly _dataLane: ClientDataLane | undefined;
  private readonly _publisher: ClientPublisher;
  // The session's secret, from the first welcome: the telemetry lane and reconnects present it.
  private _resume: string | undefined;
  private _controlWelcomed: (() => void) | undefined;
  private _controlWelcome!: Promise<void>;
  private _closed = false;
  private _ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;

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
    this._state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: this._clock.now() });
    this.state$ = this._state.asObservable();
    this.estop$ = this._estop$.asObservable();
    this.health$ = this._health$.asObservable();
    this.faults$ = this._faults$.asObservable();
    this._lanes = new DataLaneHookup({
      options,
      clock: this._clock,
      signal: (m) => this._answers.ask(this._sockets.control, 'rtc', m, 10_000),
      connected: () => this._sockets.control.connected,
    });
    this.lane$ = this._lanes.lane$;
    this._dataLane = this._lanes.dataLane;
    this._newControlWelcome();
    this._sockets = laneSockets(options, {
      controlWelcome: () => this._controlWelcome,
      resume: () => this._resume,
    });
    this[SOCKETS] = this._sockets;
    const control = this._sockets.control;
    this._sync = new ClockSync(this._clock, this._answers, control);
    this._lease = new ControlLease(control, this._answers);
    this.lease$ = this._lease.holder$.asObservable();
    this._publisher = new ClientPublisher({
      options,
      clock: this._clock,
      sockets: this._sockets,
      lanes: this._lanes,
      fault: (e) => this._faults$.next(e),
    });
    this.sent$ = this._publisher.sent$.asObservable();
    this._feeds = new ClientFeeds({
      options,
      clock: this._clock,
      sockets: this._sockets,
      offset: () => this._sync.estimate()?.offset ?? 0,
      fault: (e) => this._faults$.next(e),
    });
    for (const lane of ['control', 'telemetry'] as const) this._listen(lane);
    control.on('estop', (s: EStopInfo) => this._estop$.next(s));
    control.on('health', (h: LinkHealth) =>
      this._health$.next({
        ...h,
        estimate: this._sync.estimate() ?? null,
        commandsSent: this._publisher.commandsSent,
        controlLane: this.controlLane,
        lane: this._lanes.info(),
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
    return this._lease.heldBy(this.clientId);
  }
  get estimate(): OffsetEstimate | undefined {
    return this._sync.estimate();
  }
  get controlLane(): ControlLane {
    return this._lanes.controlLane;
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
    this._sync.start(this._o.probeIntervalMs ?? 2_000);
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
    this._publisher.publish(topic, message, opts);
  }

  subscribe<T>(topic: Topic<T>, opts: SubscribeOptions = {}): Feed<T> {
    return this._feeds.subscribe(topic, opts);
  }

  requestControl(opts: { takeover?: boolean } = {}): Promise<LeaseAnswer> {
    return this._lease.request(opts);
  }

  releaseControl(): Promise<void> {
    return this._lease.release();
  }

  topic(name: string): Topic | undefined {
    return this._feeds.topic(name);
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
    this._sync.stop();
    this._lanes.close();
    this._answers.failAll(new TelekitError('E_TRANSPORT_CLOSED', 'transport closed', { operation: 'close' }));
    for (const s of Object.values(this._sockets)) {
      s.removeAllListeners();
      s.disconnect();
    }
    await this._feeds.close();
    this._ready?.reject(
      new TelekitError('E_TRANSPORT_CLOSED', 'transport closed while connecting', { operation: 'connect' }),
    );
    this._ready = undefined;
    this._state.next({ status: 'closed', since: this._clock.now(), reason: 'closed by owner' });
    this._state.complete();
    for (const s of [this._lease.holder$, this._estop$, this._health$, this._faults$, this._publisher.sent$])
      s.complete();
    this._lanes.complete();
  }

  private _setState(status: ConnectionState['status'], reason?: string): void {
    if (this._state.value.status === status || this._state.value.status === 'closed') return;
    this._state.next({ status, since: this._clock.now(), ...(reason === undefined ? {} : { reason }) });
  }

  private _newControlWelcome(): void {
    this._controlWelcome = new Promise<void>((r) => (this._controlWelcomed = r));
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
    await this._sync.resync();
    if (!this._bothReady()) return;
    this._setState('connected');
    this._lease.restore();
    this._lanes.start();
    this._ready?.resolve();
    this._ready = undefined;
  }

  private _listen(lane: Lane): void {
    const socket = this._sockets[lane];
    socket.on('welcome', (w: Welcome) => this._onWelcome(lane, w));
    socket.on('b', (batch: unknown, ack?: unknown) => {
      this._feeds.read(batch);
      // Read (its telemetry decoded later, if delivered at all): the gateway may send the next.
      if (typeof ack === 'function') ack();
    });
    socket.on('fault', (e: WireError) => this._faults$.next(e));
    socket.on('connect_error', (err: ConnectError) => this._onConnectError(socket, err));
    socket.on('disconnect', (reason) => {
      delete this._welcome[lane];
      this._feeds.down(lane);
      if (lane === 'control') {
        this._newControlWelcome();
        this._lanes.stop('the control connection is down');
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
      this._sync.forgetLastProbe();
      this._lease.holder$.next(w.lease);
      this._estop$.next(w.estop);
      this._controlWelcomed?.();
      // A new session (the old one ended while both lanes were down): the telemetry lane joins it.
      const telemetry = this._sockets.telemetry;
      if (changed && telemetry.connected && this._welcome.telemetry?.clientId !== w.clientId) {
        telemetry.disconnect().connect();
      }
    }
    // Restore what this lane had.
    this._feeds.restore(lane);
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
