/**
 * A rosbridge client's telemetry: one keep-last queue of `queue_length` per subscription, written
 * to the socket only while it has drained (so a command's answer never waits behind a backlog and a
 * slow client gets the newest sample), each subscription paced by its `throttle_rate`.
 */
import type { GatewayPeer, PeerAnswer } from '@telekit/gateway';
import type { RosMapping } from '@telekit/transport-ros';
import type { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import type { EndpointHub, OutFrame } from './endpoint-hub.js';
import { normaliseName } from './ros-names.js';

/** One subscription of this client: the newest samples of one topic, paced by the socket and `throttle_rate`. */
export interface Outgoing {
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

/** The bytes the socket may hold unsent before telemetry waits: a command's answer never queues behind more. */
const TELEMETRY_HIGH_WATER = 64 * 1024;

export class TelemetryOut {
  /** The subscriptions, by normalised name. */
  readonly outgoing = new Map<string, Outgoing>();
  readonly #ws: WebSocket;
  readonly #hub: EndpointHub;
  #flushArmed = false;
  #closed = false;
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, hub: EndpointHub) {
    this.#ws = ws;
    this.#hub = hub;
    const netSocket = (ws as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    netSocket?.on('drain', () => this.#arm());
  }

  subscribe(
    peer: GatewayPeer,
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
      this.#push(out, this.#hub.encode(m as object, name, cbor, toRos));
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

  /** Ends every subscription; nothing more is written. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#drainTimer);
    for (const out of this.outgoing.values()) out.feed.unsubscribe();
    this.outgoing.clear();
  }

  #push(out: Outgoing, frame: OutFrame): void {
    if (this.#closed) return;
    if (out.queue.length >= out.depth) {
      out.queue.shift();
      out.dropped++;
      this.#hub.metrics.dropped++;
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
    const ws = this.#ws;
    if (this.#closed || ws.readyState !== 1) return;
    const now = this.#hub.clock.now();
    let wait = Number.POSITIVE_INFINITY;
    for (const out of this.outgoing.values()) {
      while (out.queue.length > 0) {
        if (ws.bufferedAmount > TELEMETRY_HIGH_WATER) {
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
        ws.send(frame.bytes, { binary: frame.binary });
        out.lastSent = now;
        this.#hub.metrics.sent++;
      }
    }
    if (wait !== Number.POSITIVE_INFINITY) this.#arm(Math.max(1, wait));
  }
}
