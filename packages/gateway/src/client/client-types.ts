import type { Clock, OffsetEstimate, Topic, Transport } from '@telekit/core';
import type { Observable } from 'rxjs';
import type { EStopInfo, LeaseAnswer, LeaseInfo, LinkHealth, Welcome, WireError } from '../protocol.js';

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
