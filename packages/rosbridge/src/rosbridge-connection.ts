import type { Header } from '@telekit/core';
import type { GatewayDoor, GatewayPeer, PeerAnswer } from '@telekit/gateway';
import type { RosMapping } from '@telekit/transport-ros';
import type { WebSocket } from 'ws';
import type { EndpointHub } from './endpoint-hub.js';
import { Fields, type FrameError, readFrame } from './rosbridge-frame.js';
import { LEVELS, type Level, OPS } from './rosbridge-ops.js';
import { type Outgoing, TelemetryOut } from './telemetry-out.js';

export { SUPPORTED_OPS } from './rosbridge-ops.js';

/**
 * How many frames other than `auth` a client that has not authenticated may send: each is answered
 * with a status saying how to authenticate, the last one also saying that the socket closes, and it
 * is closed (1008). A malformed or oversized frame before authenticating closes it at once. Without
 * this bound a client without credentials makes the server read and answer frames until the
 * gateway's `authTimeoutMs`.
 */
export const FRAMES_BEFORE_AUTH = 3;

/**
 * One rosbridge client: its socket, its gateway session (a peer, once authenticated), its
 * subscriptions and advertisements. Frames in are handled at once, in order, by the op table
 * (rosbridge-ops.ts); frames out are replies (written at once) and telemetry (each subscription a
 * keep-last queue of `queue_length`, written only while the socket has drained, so a command never
 * waits behind a backlog and a slow client gets the newest sample: telemetry-out.ts).
 */
export class RosbridgeConnection {
  readonly ws: WebSocket;
  readonly hub: EndpointHub;
  readonly door: GatewayDoor;
  peer: GatewayPeer | undefined;
  level: Level = 'error';
  /** This client's subscriptions, by normalised name. */
  readonly outgoing: ReadonlyMap<string, Outgoing>;
  /** Topics this client advertised, with their type. */
  readonly advertised = new Map<string, string>();
  /** Services this client advertised, with their type. */
  readonly services = new Map<string, string>();
  /** Commands per topic: the sequence numbers the gateway orders them by. */
  readonly #seq = new Map<string, number>();
  #entering: Promise<void> | undefined;
  #waiting: { data: Buffer; binary: boolean }[] = [];
  readonly #telemetry: TelemetryOut;
  #closed = false;
  /** Frames other than `auth` received before authenticating. */
  #unauthenticated = 0;
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
    this.#telemetry = new TelemetryOut(ws, hub);
    this.outgoing = this.#telemetry.outgoing;
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
      this.#beforeAuth(op, f.id);
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

  /**
   * A frame other than `auth` before authenticating: answered with how to authenticate, up to
   * {@link FRAMES_BEFORE_AUTH} of them; the last is answered with that and the close.
   */
  #beforeAuth(op: string, id: string | undefined): void {
    this.hub.metrics.badFrames++;
    const how = 'authenticate first: a token in the URL (?token=) or the auth op';
    if (++this.#unauthenticated < FRAMES_BEFORE_AUTH) {
      this.#status('error', `${op.slice(0, 64)}: ${how}`, id, { code: 'E_AUTH', field: 'op' });
      return;
    }
    this.#refuseAndClose(
      'E_AUTH',
      'op',
      `${op.slice(0, 64)}: ${how}; ${FRAMES_BEFORE_AUTH} frames without authenticating: closing`,
      id,
    );
  }

  /**
   * A frame the endpoint could not read: a status naming the field, counted in the principal's
   * conduct. Before authenticating there is no principal to count it against: the status says so
   * and the socket is closed.
   */
  #badFrame(e: FrameError, code = 'E_BAD_REQUEST'): void {
    this.hub.metrics.badFrames++;
    const msg = `${e.op ? `${e.op}: ` : ''}${e.field}: ${e.message}`;
    if (!this.peer) {
      this.#refuseAndClose(code, e.field, `${msg}; before authenticating: closing`, e.id);
      return;
    }
    if (!this.peer.refused().answer) return;
    this.#status('error', msg, e.id, { code, field: e.field });
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

  #refuseAndClose(code: string, field: string, msg: string, id?: string): void {
    if (this.#closed) return;
    // Said whatever the level: the client must learn why it is being closed.
    if (this.ws.readyState === 1)
      this.ws.send(
        JSON.stringify({
          op: 'status',
          level: 'error',
          msg,
          ...(id === undefined ? {} : { id }),
          code,
          field,
        }),
      );
    this.ws.close(1008, closeReason(msg));
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
    return this.#telemetry.subscribe(this.peer!, name, line, id, depth, throttleMs, cbor);
  }

  unsubscribe(name: string, id: string | undefined): void {
    this.#telemetry.unsubscribe(name, id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#telemetry.close();
    this.hub.left(this);
    // Whatever it was driving stops now: the lease goes with the session.
    this.door.close();
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close();
  }
}

/** A close frame's reason: at most 123 bytes of UTF-8 (ws throws past that), cut on a character. */
function closeReason(msg: string): string {
  let reason = msg.slice(0, 120);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
