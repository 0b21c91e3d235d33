import {
  builtinTopics,
  type Clock,
  type ConnectionState,
  checkMessage,
  createInProcessBus,
  type Feed,
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
import { BehaviorSubject, type Observable, Subject } from 'rxjs';
import { Manager, type Socket } from 'socket.io-client';
import { unpackMessage } from '../codec.js';
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

type Lane = ClientLane;

/** Options of {@link gatewayClient}. */
export interface GatewayClientOptions {
  /** The gateway's base URL, `http://host:port`. */
  url: string;
  /** The token for the handshake, or a function returning a fresh one (called on every (re)connect). */
  token?: string | (() => string | Promise<string>);
  /** Topics beyond the built-in ones. */
  topics?: readonly Topic[];
  clock?: Clock;
  /** How often to probe the clock offset and round trip, ms. Default 2 000. */
  probeIntervalMs?: number;
  /** First reconnect delay and its ceiling, ms. Defaults 250 and 3 000. */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  /** Give up connecting after this long, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Allow HTTP long-polling (the gateway must allow it too). Default: WebSocket only. */
  polling?: boolean;
  /**
   * Carry both lanes on one connection (socket.io's multiplexing) instead of one each. Saves a
   * connection; lets telemetry bytes delay control. Default false.
   */
  sharedConnection?: boolean;
}

/** Link health as the client sees it: its own probes plus the gateway's figures about it. */
export interface ClientLinkHealth extends LinkHealth {
  /** The client's own estimate (more current than the echoed `offset`/`rtt`). */
  estimate: OffsetEstimate | null;
  /** Commands (control-lane messages) this client has sent since it was made. */
  commandsSent: number;
}

/** A command as it left this client: for a page that watches how late its commands leave. */
export interface SentCommand {
  readonly topic: string;
  readonly seq: number;
  /** When the input behind it happened (as given in {@link PublishOptions.inputAt}), if said. */
  readonly inputAt?: number;
  /** When it was handed to the socket, on the client's clock. */
  readonly sentAt: number;
}

/** Options of one {@link GatewayClient.publish}. */
export interface PublishOptions {
  /**
   * When the input behind this command happened (the key press, the stick's move, the moment a
   * held key's repeat was due), ms on the client's clock — `performance.timeOrigin +
   * event.timeStamp` in a page. It travels as `header.input`, and the gateway times the command's
   * `input` stage (input → send) and its input→actuation from it. Default: none (they start at the
   * send).
   */
  inputAt?: number;
}

/** A {@link Transport} over the gateway, with control and link state. */
export interface GatewayClient extends Transport {
  /** The public id the gateway gave this client's session (the `sender` of its commands), once connected. */
  readonly clientId: string | undefined;
  readonly role: Welcome['role'] | undefined;
  /** The display name the gateway knows this client by. */
  readonly displayName: string | undefined;
  /** Who holds control, as the gateway says. */
  readonly lease$: Observable<LeaseInfo | null>;
  readonly estop$: Observable<EStopInfo>;
  /** Link health, about once a second. */
  readonly health$: Observable<ClientLinkHealth>;
  /**
   * Publishes a message; a command may say when the input behind it happened (see
   * {@link PublishOptions.inputAt}) for the latency budget.
   */
  publish<T>(topic: Topic<T>, message: T, options?: PublishOptions): void;
  /**
   * Every command as it leaves (control lane): with the input's moment when the publisher gave it,
   * so a page can see its own input → send delay at once (the gateway's budget says it a second later).
   */
  readonly sent$: Observable<SentCommand>;
  /** Everything the gateway refused, with why (validation, rate, lease, e-stop, …). */
  readonly faults$: Observable<WireError>;
  /** True while this client holds the control lease. */
  readonly holdsControl: boolean;
  /** Asks for the control lease (an admin may take it over). Re-asked after a reconnect. */
  requestControl(options?: { takeover?: boolean }): Promise<LeaseAnswer>;
  /** Gives the lease up (and stops asking for it after reconnects). */
  releaseControl(): Promise<void>;
  /** The current clock estimate: server clock minus this client's. */
  readonly estimate: OffsetEstimate | undefined;
  /**
   * A `/media/*` signalling request, answered to this client only; rejects with the gateway's
   * reason. Given a topic (e.g. `Topics.mediaJoin`), the body and the answer are typed by the topic's
   * `schema` and `answer`:
   *
   * @example
   * ```ts
   * const { streams } = await client.request(Topics.mediaStreams, {});
   * ```
   */
  request<B, A>(topic: Topic<B, string, A>, body: B): Promise<A>;
  /** The same request by topic name, for a topic this client does not know: the answer is untyped. */
  request<A = unknown>(topic: string, body: unknown): Promise<A>;
  /** A topic this client knows by name (built in, or given in `topics`), for widgets configured by name. */
  topic(name: string): Topic | undefined;
}

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
  const clock = options.clock ?? systemClock;
  const registry = new Map<string, Topic>(
    [...builtinTopics, ...(options.topics ?? [])].map((t) => [t.name, t]),
  );
  const estimator = new OffsetEstimator();
  const state = new BehaviorSubject<ConnectionState>({ status: 'idle', since: clock.now() });
  const lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  const estop$ = new BehaviorSubject<EStopInfo>({ latched: false });
  const health$ = new Subject<ClientLinkHealth>();
  const faults$ = new Subject<WireError>();
  const sent$ = new Subject<SentCommand>();
  const depths = new Map<string, number>();
  const welcome: Partial<Record<Lane, Welcome>> = {};
  // The gateway judges a session's commands in order by seq. A command keeps its own seq when that is
  // after the last one sent on its topic; when several publishers in one client (a pad, a gamepad,
  // a script) number their commands independently, the later one is moved just after it.
  const seqs = new Map<string, number>();
  const inOrder = <T>(topic: Topic, msg: T): T => {
    if (topic.lane !== 'control') return msg;
    const m = msg as { header: { seq: number } };
    const last = seqs.get(topic.name);
    const seq = last === undefined || m.header.seq > last ? m.header.seq : last + 1;
    seqs.set(topic.name, seq);
    return seq === m.header.seq ? msg : ({ ...m, header: { ...m.header, seq } } as T);
  };
  // The session's secret, from the first welcome: the telemetry lane and reconnects present it.
  let resume: string | undefined;
  let controlWelcomed: (() => void) | undefined;
  let controlWelcome = new Promise<void>((r) => (controlWelcomed = r));
  // The previous time probe, reported in the next so the gateway can bound the clock offset.
  let lastProbe: { t0: number; t3: number } | undefined;
  let wantsControl = false;
  let takeover = false;
  let closed = false;
  let probeTimer: ReturnType<typeof setInterval> | undefined;
  let commandsSent = 0;
  // Requests awaiting an answer, so that close() can end them (and their timers) at once.
  const pending = new Set<{ timer: ReturnType<typeof setTimeout>; fail: (e: Error) => void }>();

  /** Emits with an acknowledgement, failing after `ms`; close() ends it early. */
  function ask<T>(
    socket: Socket,
    event: string,
    payload: unknown,
    ms = 5_000,
    ...more: unknown[]
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          pending.delete(entry);
          reject(
            new TelekitError('E_TIMEOUT', `no answer to ${event}`, { operation: event, context: { ms } }),
          );
        }, ms),
        fail: reject,
      };
      pending.add(entry);
      socket.emit(event, payload, ...more, (answer: T) => {
        clearTimeout(entry.timer);
        pending.delete(entry);
        resolve(answer);
      });
    });
  }

  const setState = (status: ConnectionState['status'], reason?: string) => {
    if (state.value.status === status || state.value.status === 'closed') return;
    state.next({ status, since: clock.now(), ...(reason === undefined ? {} : { reason }) });
  };

  // One connection per lane, so that commands never queue behind telemetry (unless asked to share).
  const controlManager = makeManager();
  const telemetryManager = options.sharedConnection ? controlManager : makeManager();
  const sockets: Record<Lane, Socket> = {
    control: makeSocket(controlManager, NAMESPACES.control),
    telemetry: makeSocket(telemetryManager, NAMESPACES.telemetry),
  };

  function makeManager(): Manager {
    return new Manager(options.url, {
      autoConnect: false,
      transports: options.polling ? ['polling', 'websocket'] : ['websocket'],
      parser: clientParser,
      reconnectionDelay: options.reconnectDelayMs ?? 250,
      reconnectionDelayMax: options.reconnectDelayMaxMs ?? 3_000,
      timeout: options.connectTimeoutMs ?? 10_000,
    });
  }

  function makeSocket(manager: Manager, namespace: string): Socket {
    return manager.socket(namespace, {
      auth: (cb) => {
        const t = options.token;
        // The telemetry lane joins the session the control lane was welcomed into.
        const after = namespace === NAMESPACES.telemetry ? controlWelcome : Promise.resolve();
        void after
          .then(() => (typeof t === 'function' ? t() : t))
          .then(
            (token) => cb({ ...(token === undefined ? {} : { token }), ...(resume ? { resume } : {}) }),
            () => cb(resume ? { resume } : {}),
          );
      },
    });
  }

  // Local delivery: the lane rules, with control deadlines judged on this client's clock.
  const bus = createInProcessBus({
    clock,
    // A feed is live once the gateway answered its `sub`.
    liveness: 'acknowledged',
    demand: {
      open: (topic) => void request(topic, 'sub'),
      close: (topic) => void request(topic, 'unsub'),
    },
    offset: () => -(estimator.estimate()?.offset ?? 0),
  });
  const local = inProcessTransport({ bus, validate: false, name: 'gateway-client' });

  function request(topic: Topic, verb: 'sub' | 'unsub') {
    const socket = sockets[laneOf(topic)];
    if (!socket.connected) return; // sent on (re)connect
    const args =
      verb === 'sub'
        ? { topic: topic.name, ...(depths.has(topic.name) ? { depth: depths.get(topic.name) } : {}) }
        : { topic: topic.name };
    socket.emit(verb, args, (ack: Ack) => {
      if (!ack.ok) faults$.next(ack.error);
      else if (verb === 'sub' && socket.connected) bus.setLive(topic, true);
    });
  }

  const onBatch = (batch: unknown) => {
    if (!Array.isArray(batch)) return;
    for (const entry of batch) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
      const topic = registry.get(entry[0]);
      if (!topic) continue;
      let payload: unknown = entry[1];
      if (payload instanceof Uint8Array || payload instanceof ArrayBuffer) {
        try {
          payload = unpackMessage(payload as Uint8Array);
        } catch {
          bus.refused(topic);
          faults$.next({
            code: 'E_PROTOCOL',
            message: 'gateway sent an undecodable message',
            topic: topic.name,
          });
          continue;
        }
      }
      const checked = checkMessage(topic, payload);
      if (!checked.ok) {
        bus.refused(topic);
        faults$.next({
          code: 'E_VALIDATION',
          message: `gateway sent ${checked.error.message}`,
          topic: topic.name,
          field: checked.error.field,
        });
        continue;
      }
      bus.inject(topic, checked.value);
    }
  };

  const probe = () => {
    const socket = sockets.control;
    if (!socket.connected) return Promise.resolve();
    const t0 = clock.now();
    const last = lastProbe;
    lastProbe = undefined;
    return ask<TimeAnswer>(socket, 'time', { t0, ...(last ? { last } : {}) }).then(
      (a) => {
        if (!a || typeof a.t1 !== 'number') return;
        const t3 = clock.now();
        lastProbe = { t0, t3 };
        estimator.add({ t0, t1: a.t1, t2: a.t2, t3 });
      },
      () => undefined,
    );
  };

  const bothReady = () =>
    sockets.control.connected && sockets.telemetry.connected && welcome.control && welcome.telemetry;

  let ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  const onReady = async () => {
    if (!bothReady()) return;
    // A fresh estimate before the first command, so deadlines are judged on the right clock.
    estimator.reset();
    for (let i = 0; i < 4; i++) await probe();
    if (!bothReady()) return;
    setState('connected');
    if (wantsControl) void client.requestControl({ takeover }).catch(() => undefined);
    ready?.resolve();
    ready = undefined;
  };

  for (const lane of ['control', 'telemetry'] as const) {
    const socket = sockets[lane];
    socket.on('welcome', (w: Welcome) => {
      if (w?.protocol !== GATEWAY_PROTOCOL) {
        faults$.next({
          code: 'E_PROTOCOL',
          message: `gateway speaks ${String(w?.protocol)}, this client ${GATEWAY_PROTOCOL}`,
        });
      }
      welcome[lane] = w;
      if (lane === 'control') {
        const changed = resume !== undefined && resume !== w.resume;
        resume = w.resume;
        lastProbe = undefined;
        lease$.next(w.lease);
        estop$.next(w.estop);
        controlWelcomed?.();
        // A new session (the old one ended while both lanes were down): the telemetry lane joins it.
        if (changed && sockets.telemetry.connected && welcome.telemetry?.clientId !== w.clientId) {
          sockets.telemetry.disconnect().connect();
        }
      }
      // Restore what this lane had.
      for (const topic of bus.topics) if (laneOf(topic) === lane) request(topic, 'sub');
      void onReady();
    });
    socket.on('b', onBatch);
    socket.on('fault', (e: WireError) => faults$.next(e));
    socket.on('connect_error', (err: Error & { data?: { code?: string; reason?: string } }) => {
      if (err.data?.code === 'E_AUTH') {
        // The gateway's message already carries the reason as [reason:…].
        const e = new TelekitError('E_AUTH', `gateway refused the connection: ${err.message}`, {
          operation: 'connect',
          cause: err.data,
        });
        setState('disconnected', err.message);
        ready?.reject(e);
        ready = undefined;
        // A refused token will not get better by retrying with it.
        for (const s of Object.values(sockets)) s.disconnect();
        return;
      }
      // Refused for now, not for good (the session's lane was still live, or a penalty): socket.io
      // does not retry a refused handshake by itself, so try again after the reconnect delay.
      if (err.data?.code === 'E_SESSION_IN_USE' || err.data?.code === 'E_ABUSE') {
        const delay = err.data.code === 'E_ABUSE' ? 5_000 : (options.reconnectDelayMs ?? 250);
        setTimeout(() => {
          if (!closed && !socket.connected) socket.connect();
        }, delay);
      }
      if (state.value.status === 'connected') setState('reconnecting', err.message);
    });
    socket.on('disconnect', (reason) => {
      delete welcome[lane];
      for (const topic of bus.topics) if (laneOf(topic) === lane) bus.setLive(topic, false);
      if (lane === 'control') controlWelcome = new Promise<void>((r) => (controlWelcomed = r));
      if (closed) return;
      setState(socket.active ? 'reconnecting' : 'disconnected', reason);
    });
  }
  sockets.control.on('lease', (h: LeaseInfo | null) => lease$.next(h ?? null));
  sockets.control.on('estop', (s: EStopInfo) => estop$.next(s));
  sockets.control.on('health', (h: LinkHealth) =>
    health$.next({ ...h, estimate: estimator.estimate() ?? null, commandsSent }),
  );

  const client: GatewayClient & { [SOCKETS]: Record<Lane, Socket> } = {
    [SOCKETS]: sockets,
    name: 'gateway-client',
    capabilities: { reconnect: true, remote: true },
    get state() {
      return state.value;
    },
    state$: state.asObservable(),
    get clientId() {
      return welcome.control?.clientId ?? welcome.telemetry?.clientId;
    },
    get role() {
      return welcome.control?.role;
    },
    get displayName() {
      return welcome.control?.name;
    },
    lease$: lease$.asObservable(),
    estop$: estop$.asObservable(),
    health$: health$.asObservable(),
    faults$: faults$.asObservable(),
    sent$: sent$.asObservable(),
    get holdsControl() {
      return lease$.value !== null && lease$.value.id === client.clientId;
    },
    get estimate() {
      return estimator.estimate();
    },
    connect() {
      if (closed)
        return Promise.reject(
          new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', { operation: 'connect' }),
        );
      if (state.value.status === 'connected') return Promise.resolve();
      const done = new Promise<void>((resolve, reject) => {
        ready = { resolve, reject };
      });
      setState('connecting');
      for (const s of Object.values(sockets)) if (!s.connected) s.connect();
      if (!probeTimer) {
        probeTimer = setInterval(() => void probe(), options.probeIntervalMs ?? 2_000);
      }
      const timeout = options.connectTimeoutMs ?? 10_000;
      return Promise.race([
        done,
        new Promise<never>((_, reject) => {
          const t = setTimeout(
            () =>
              reject(
                new TelekitError('E_TIMEOUT', 'could not reach the gateway', {
                  operation: 'connect',
                  context: { url: options.url, ms: timeout },
                }),
              ),
            timeout,
          );
          void done.finally(() => clearTimeout(t)).catch(() => undefined);
        }),
      ]);
    },
    publish<T>(topic: Topic<T>, message: T, opts?: PublishOptions) {
      if (closed) {
        throw new TelekitError('E_TRANSPORT_CLOSED', 'transport is closed', {
          operation: 'publish',
          context: { topic: topic.name },
        });
      }
      const valid = inOrder(topic, parseMessage(topic, message));
      const socket = sockets[laneOf(topic)];
      // A command is for now: while the link is down it is dropped, never queued.
      if (!socket.connected) {
        faults$.next({
          code: 'E_NOT_CONNECTED',
          message: 'not connected: message dropped',
          topic: topic.name,
        });
        return;
      }
      // No acknowledgement: a refusal comes back as a fault, and a command costs one frame.
      const input = opts?.inputAt;
      if (topic.lane !== 'control') {
        socket.emit('pub', topic.name, valid);
        return;
      }
      commandsSent++;
      const header = (valid as { header: { seq: number } }).header;
      const stamped = input !== undefined && Number.isFinite(input);
      // The input's moment rides in the header for the gateway's latency budget (the header's
      // schema does not know it: the gateway reads it, then validation drops it).
      socket.emit(
        'pub',
        topic.name,
        stamped ? { ...(valid as object), header: { ...header, input } } : valid,
      );
      sent$.next({
        topic: topic.name,
        seq: header.seq,
        ...(stamped ? { inputAt: input } : {}),
        sentAt: clock.now(),
      });
    },
    subscribe<T>(topic: Topic<T>, opts: SubscribeOptions = {}): Feed<T> {
      if (opts.depth !== undefined) depths.set(topic.name, opts.depth);
      if (!registry.has(topic.name)) registry.set(topic.name, topic as Topic);
      return local.subscribe(topic, opts);
    },
    requestControl(opts = {}) {
      wantsControl = true;
      takeover = opts.takeover ?? false;
      if (!sockets.control.connected) {
        return Promise.reject(
          new TelekitError('E_NOT_CONNECTED', 'not connected', { operation: 'requestControl' }),
        );
      }
      return ask<LeaseAnswer>(sockets.control, 'lease', { action: takeover ? 'takeover' : 'acquire' }).then(
        (answer) => {
          if (answer.granted) lease$.next(answer.holder);
          else wantsControl = false; // someone else has it now: don't fight for it after reconnects
          return answer;
        },
      );
    },
    topic(name: string) {
      return registry.get(name);
    },
    async request<T = unknown>(of: string | Topic, body: unknown): Promise<T> {
      const topic = typeof of === 'string' ? of : of.name;
      if (!sockets.telemetry.connected) {
        throw new TelekitError('E_NOT_CONNECTED', 'not connected', {
          operation: 'request',
          context: { topic },
        });
      }
      const a = await ask<{ ok: true; answer: T } | { ok: false; error: WireError }>(
        sockets.telemetry,
        'req',
        topic,
        10_000,
        body,
      );
      if (!a.ok)
        throw new TelekitError(a.error.code, a.error.message, { operation: 'request', context: { topic } });
      return a.answer;
    },
    releaseControl() {
      wantsControl = false;
      if (!sockets.control.connected) return Promise.resolve();
      return ask(sockets.control, 'lease', { action: 'release' }).then(
        () => undefined,
        () => undefined,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      if (probeTimer) clearInterval(probeTimer);
      for (const p of pending) {
        clearTimeout(p.timer);
        p.fail(new TelekitError('E_TRANSPORT_CLOSED', 'transport closed', { operation: 'close' }));
      }
      pending.clear();
      for (const s of Object.values(sockets)) {
        s.removeAllListeners();
        s.disconnect();
      }
      await local.close();
      ready?.reject(
        new TelekitError('E_TRANSPORT_CLOSED', 'transport closed while connecting', { operation: 'connect' }),
      );
      ready = undefined;
      state.next({ status: 'closed', since: clock.now(), reason: 'closed by owner' });
      state.complete();
      lease$.complete();
      estop$.complete();
      health$.complete();
      faults$.complete();
      sent$.complete();
    },
  };
  return client;
}
