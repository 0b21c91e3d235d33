import type { Clock, Topic, Transport } from '@telekit/core';
import type { OffsetEstimate } from '@telekit/core/transport';
import type { Observable } from 'rxjs';
import type {
  ControlLane,
  EStopInfo,
  LeaseAnswer,
  LeaseInfo,
  LinkHealth,
  Welcome,
  WireError,
} from '../protocol.js';
import type { DataChannelInfo, RtcPeerConnectionFactory } from './data-lane.js';

export type { DataChannelInfo, RtcPeerConnectionFactory } from './data-lane.js';

/** Which lane carries this client's streamed commands, and the DataChannel's state. */
export interface ControlLaneInfo {
  /** What the client was told to do (`controlLane`). */
  mode: 'auto' | 'datachannel' | 'socket.io';
  /** The lane streamed commands (twist, joints, gamepad) leave on now. */
  lane: ControlLane;
  dataChannel: DataChannelInfo;
}

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
  /**
   * Which lane carries streamed commands (twist, joints, gamepad; e-stops, actions and lease
   * requests always go over the reliable socket.io control connection):
   *
   * - `'auto'` (default): a WebRTC DataChannel (unordered, no retransmissions — a lost command is
   *   superseded by the next, never waited for) once it opens after the handshake; socket.io until
   *   then, and by itself whenever it does not open within `rtc.openTimeoutMs`, ICE fails (no UDP,
   *   a proxy), or it goes silent; tried again later with back-off.
   * - `'datachannel'`: the DataChannel only: while it is not open, streamed commands are dropped
   *   (a fault says so) and the robot stops by the gateway's deadman.
   * - `'socket.io'`: never opens a DataChannel.
   *
   * Without an `RTCPeerConnection` (Node, unless `rtc.peerConnection` is given) it is socket.io.
   */
  controlLane?: 'auto' | 'datachannel' | 'socket.io';
  /**
   * What the client checks again of what the gateway sends it:
   *
   * - `'gateway'` (default): telemetry is only decoded. The gateway validates every telemetry
   *   message against its topic's schema once, before encoding it for all its clients (messages
   *   that fail are dropped there, counted as `telekit_dropped_total{reason="invalid"}`), and the
   *   client reaches only the gateway it authenticated to. Control-lane messages are still
   *   validated here.
   * - `'full'`: every message is validated against its topic's schema again (a gateway of
   *   another version, a proxy that rewrites frames, chasing a schema mismatch); what fails is
   *   refused with an `E_VALIDATION` fault naming the field.
   *
   * Either way a telemetry sample is decoded (and checked) only when it is delivered: one that a
   * newer sample replaced in a keep-last mailbox first costs nothing, and is never refused.
   *
   * Whatever this says, a message that is not MessagePack is refused (`E_PROTOCOL`).
   */
  inboundValidation?: 'gateway' | 'full';
  /** The DataChannel lane's WebRTC: where to make peer connections, and with what. */
  rtc?: {
    /**
     * Makes a peer connection. Default: the page's `RTCPeerConnection`. In Node, for example
     * `import { RTCPeerConnection } from 'node-datachannel/polyfill'` and
     * `(c) => new RTCPeerConnection(c)`.
     */
    peerConnection?: RtcPeerConnectionFactory;
    /** Its configuration (`iceServers`, `iceTransportPolicy`…). Default: no ICE servers. */
    configuration?: RTCConfiguration;
    /** Fall back to socket.io when the DataChannel has not opened within this long, ms. Default 5 000. */
    openTimeoutMs?: number;
    /** Declare the DataChannel dead (and fall back) after this long without an answer to its pings, ms. Default 1 000. */
    silenceMs?: number;
    /**
     * Send each streamed command over the DataChannel a second time this long after the first,
     * unless a newer one of its topic left meanwhile, ms (0: once only). A lost datagram then delays
     * the robot by this much instead of a command period. Default 5.
     */
    repeatMs?: number;
  };
}

/** Link health as the client sees it: its own probes plus the gateway's figures about it. */
export interface ClientLinkHealth extends LinkHealth {
  /** The client's own estimate (more current than the echoed `offset`/`rtt`). */
  estimate: OffsetEstimate | null;
  /** Commands (control-lane messages) this client has sent since it was made. */
  commandsSent: number;
  /** The lane this client's streamed commands leave on now. */
  controlLane: ControlLane;
  /** The lanes in detail: the mode, and the DataChannel's state, its round trip and why it is not open. */
  lane: ControlLaneInfo;
}

/** A command as it left this client: for a page that watches how late its commands leave. */
export interface SentCommand {
  readonly topic: string;
  readonly seq: number;
  /** When the input behind it happened (as given in {@link PublishOptions.inputAt}), if said. */
  readonly inputAt?: number;
  /** When it was handed to the socket, on the client's clock. */
  readonly sentAt: number;
  /** The lane it left on. */
  readonly lane: ControlLane;
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
  /** The lane streamed commands leave on now (`'datachannel'` once it is open). */
  readonly controlLane: ControlLane;
  /** The control lanes' state, now and as it changes (a DataChannel opening, failing, falling back). */
  readonly lane$: Observable<ControlLaneInfo>;
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
