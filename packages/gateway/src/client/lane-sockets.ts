/**
 * The client's socket.io connections: one Manager per lane (or one shared by both, with
 * `sharedConnection`), so commands never queue behind telemetry, and each lane's handshake — the
 * token, and the session's secret to rejoin it. The telemetry lane waits for the control lane's
 * welcome, so that it joins the session the control lane was welcomed into.
 */
import { Manager, type Socket } from 'socket.io-client';
import { type ClientLane, NAMESPACES } from '../protocol.js';
import { clientParser } from '../wire-parser.js';
import type { GatewayClientOptions } from './client-types.js';

/** What a lane's handshake presents, read at each (re)connect. */
export interface LaneSession {
  /** Settles once the control lane has been welcomed (the telemetry lane's handshake waits for it). */
  controlWelcome(): Promise<void>;
  /** The session's secret, from the first welcome. */
  resume(): string | undefined;
}

/** Makes the two lanes' sockets (not connected yet). */
export function laneSockets(o: GatewayClientOptions, session: LaneSession): Record<ClientLane, Socket> {
  const controlManager = manager(o);
  const telemetryManager = o.sharedConnection ? controlManager : manager(o);
  return {
    control: socket(o, session, controlManager, NAMESPACES.control),
    telemetry: socket(o, session, telemetryManager, NAMESPACES.telemetry),
  };
}

function manager(o: GatewayClientOptions): Manager {
  return new Manager(o.url, {
    autoConnect: false,
    transports: o.polling ? ['polling', 'websocket'] : ['websocket'],
    parser: clientParser,
    reconnectionDelay: o.reconnectDelayMs ?? 250,
    reconnectionDelayMax: o.reconnectDelayMaxMs ?? 3_000,
    timeout: o.connectTimeoutMs ?? 10_000,
  });
}

function socket(o: GatewayClientOptions, session: LaneSession, manager: Manager, namespace: string): Socket {
  // This client acknowledges each telemetry batch (flow control: see the gateway's `Outbox`).
  const acks = namespace === NAMESPACES.telemetry ? { acks: true } : {};
  return manager.socket(namespace, {
    auth: (cb) => {
      const t = o.token;
      // The telemetry lane joins the session the control lane was welcomed into.
      const after = namespace === NAMESPACES.telemetry ? session.controlWelcome() : Promise.resolve();
      void after
        .then(() => (typeof t === 'function' ? t() : t))
        .then(
          (token) => {
            const resume = session.resume();
            cb({ ...(token === undefined ? {} : { token }), ...(resume ? { resume } : {}), ...acks });
          },
          () => {
            const resume = session.resume();
            cb({ ...(resume ? { resume } : {}), ...acks });
          },
        );
    },
  });
}
