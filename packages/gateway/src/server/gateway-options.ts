import type { Server as HttpServer } from 'node:http';
import type { Clock, Logger, Topic, Transport } from '@telekit/core';
import type { MediaSignalling } from '@telekit/core/contracts';
import type { AppHealthReport } from '@telekit/core/host';
import type { Role } from '@telekit/core/safety';
import type { Observable } from 'rxjs';
import type { ClientLane, EStopInfo, LeaseInfo } from '../protocol.js';
import type { AccessList, Principal, Verifier } from './auth.js';
import type { DataChannelOptions } from './data-lane.js';
import type { RouteAccess, RouteHandler, UpgradeHandler } from './http-surface.js';
import type { GatewayLimits, Rate } from './limits.js';
import type { GatewayMetrics } from './metrics.js';
import type { GatewayDoor } from './peer.js';

/** Options of `createGateway`. */
export interface GatewayOptions {
  /** The app's transport: commands from browsers go in, telemetry for browsers comes out. */
  transport: Transport;
  /**
   * Who may connect. A {@link Verifier} (such as `jwtVerifier({ secret })`), or `'none'` to let
   * everyone in as an operator (a demo on a trusted network only). Required: there is no silent default.
   */
  auth: Verifier | 'none';
  /** Per-role topic allow-lists. Default `defaultAccessList`. */
  acl?: AccessList;
  /** Topics beyond the built-in ones that clients may use. */
  topics?: readonly Topic[];
  /** Deadman timeout for the lease holder, ms. Default 250. */
  deadmanMs?: number;
  /** What one client may cost: rates, connections, unsent bytes, refusals. See {@link GatewayLimits}. */
  limits?: Partial<GatewayLimits>;
  /** @deprecated Use `limits.commands` and `limits.requests`. */
  rateLimit?: { commands?: Rate; requests?: Rate };
  /** Largest message a client may send, bytes. Default 16 384. */
  maxPayloadBytes?: number;
  /** A directory of static files to serve (an app's web bundle). */
  staticDir?: string;
  /** Extra HTTP routes, tried before the static files; return true when handled. */
  routes?: RouteHandler;
  /** Answers viewers' `/media/*` requests (the media plugin provides it). */
  media?: MediaSignalling;
  /**
   * Scale-out: a Redis URL (or the URL and a key prefix, default `telekit`); instances sharing it
   * share the lease, the e-stop and the traffic.
   */
  redis?: string | { url: string; prefix?: string };
  /** Readiness: the app's health (plugins). Default: always ready. */
  health?: () => Promise<AppHealthReport>;
  /**
   * Browser origins allowed to connect (`https://ops.example.com`; `*` for any). A handshake with an
   * `Origin` header not on the list is refused with HTTP 403; clients that send none (Node, Python)
   * are not browsers and pass. Default: the gateway's own origin only (the `Host` it was reached by).
   */
  origins?: readonly string[];
  /**
   * Without `origins`, the host names a same-origin page may use. Default: IP addresses, `localhost`
   * and this machine's host name (a domain rebound to this address is refused: DNS rebinding).
   */
  hosts?: readonly string[];
  /** @deprecated Use `origins`. */
  cors?: string | string[];
  /**
   * Who may read `/metrics` and `/readyz`: `admin` (default: an admin's bearer token, or anyone on the
   * `admin` listener) or `open` (anyone who reaches the port). With `auth: 'none'` they are open.
   */
  observability?: 'admin' | 'open';
  /** A second listener that serves `/healthz`, `/readyz` and `/metrics` to anyone: bind it privately. */
  admin?: { port: number; host?: string };
  /** WebSocket only (default), or also HTTP long-polling for networks that block WebSockets. */
  polling?: boolean;
  /**
   * The WebRTC DataChannel control lane (unordered, no retransmissions) for streamed commands, via
   * node-datachannel (an optional dependency; without it clients stay on socket.io). Default: on,
   * with host candidates only. `false` turns it off: clients' offers are refused and they stay on
   * socket.io.
   */
  dataChannel?: false | DataChannelOptions;
  logger?: Logger;
  clock?: Clock;
}

/** A client as {@link Gateway.clients} lists it. */
export interface GatewayClientInfo {
  id: string;
  name: string;
  role: Principal['role'];
  lanes: ClientLane[];
}

/**
 * A command's fate at the gateway, as {@link Gateway.commandFates$} tells it: admitted into the
 * safety chain's output, or refused with the code and text its sender got.
 */
export interface CommandFate {
  fate: 'admitted' | 'refused';
  /** The refusal's code (`E_NOT_HOLDER`, `E_STALE`, `E_ESTOP`, `E_RATE_LIMITED`, `E_VALIDATION`, `E_FORBIDDEN`, …). */
  code?: string;
  /** The refusal's text, as its sender got it. */
  reason?: string;
  /** The topic the message named (at most 128 characters; empty when it named none). */
  topic: string;
  /** The sender's public session id (its commands' `sender`; a secret never). */
  client: string;
  /** The command's `header.seq` and `header.stamp` as sent, when they are numbers. */
  seq?: number;
  stamp?: number;
  /** How it came in: a socket.io connection, the DataChannel lane, or another protocol's door. */
  via: 'socket.io' | 'datachannel' | 'door';
  /** When the gateway decided, on its clock (ms). */
  at: number;
}

/** A running gateway, and the extension points plugins use (through `GatewayToken`). */
export interface Gateway {
  /** Starts listening; resolves with the URL. Default port 0 (any free one), host 127.0.0.1. */
  listen(port?: number, host?: string): Promise<string>;
  readonly url: string;
  /** The admin listener's URL, when there is one. */
  readonly adminUrl: string | undefined;
  readonly http: HttpServer;
  readonly metrics: GatewayMetrics;
  /** Connected clients. */
  clients(): GatewayClientInfo[];
  /**
   * Adds an HTTP route for paths starting with `prefix` (tried in the order added, before the app's
   * `routes` and the static files); returns its removal. With `access`, the gateway lets a request
   * reach `handler` only with a token it verifies (`Authorization: Bearer …` or `?token=`) of a role
   * the access list allows, answering 401 or 403 itself, and hands `handler` the principal; see
   * {@link RouteAccess}.
   *
   * @example
   * ```ts
   * // 401 without a token, 403 for a role that may not subscribe to /media/hls, else the handler.
   * gateway.route('/media/hls/', (req, res, principal) => {
   *   res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello ${principal?.role}\n`);
   *   return true;
   * }, { subscribe: '/media/hls' });
   * ```
   */
  route(prefix: string, handler: RouteHandler, access?: RouteAccess): () => void;
  /** Takes WebSocket upgrades on `path` (a rosbridge or Foxglove endpoint); returns its removal. */
  upgrade(path: string, handler: UpgradeHandler): () => void;
  /** Lets clients use more topics. */
  addTopics(topics: readonly Topic[]): void;
  /** Lets `roles` publish (or subscribe to) more topics (names or `prefix*`); returns its removal. */
  grant(
    roles: readonly Role[],
    rules: { publish?: readonly string[]; subscribe?: readonly string[] },
  ): () => void;
  /**
   * Every published message's fate at the gateway: each refusal (of any topic, whatever the door)
   * and each admitted command. Hot: nothing is made for it while nobody subscribes.
   */
  readonly commandFates$: Observable<CommandFate>;
  /** Who holds the lease, now and as it changes (what the doors' peers see). */
  readonly lease$: Observable<LeaseInfo | null>;
  /** The e-stop, now and as it changes: who latched or cleared it, and why. */
  readonly estop$: Observable<EStopInfo>;
  /** Sends the zero of every motion topic that moved, at once (the process is dying; see `Plugin.halt`). */
  halt(): void;
  /**
   * A door for a client of another protocol (a rosbridge or Foxglove endpoint) connecting from
   * `address`: counted against the address's connection limits (throws when it holds too many);
   * `enter(token)` authenticates it into a session whose commands pass the same safety chain, rates
   * and conduct as socket.io's. Close the door when the connection closes.
   */
  door(address: string): GatewayDoor;
  /** Cuts every client's connections abruptly, or one client's (they reconnect by themselves): for tests and drills. */
  dropConnections(clientId?: string): void;
  /**
   * Closes the DataChannel lane of one client (or every client): its streamed commands stop, and
   * the robot with them when it holds control, until its client falls back to socket.io or opens
   * a new one. For drills and tests.
   */
  dropDataChannels(clientId?: string): void;
  /** Disconnects everyone and stops. Safe to call twice. */
  close(): Promise<void>;
}
