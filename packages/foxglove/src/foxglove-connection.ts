import type { GatewayPeer } from '@telekit/gateway';
import { distinctUntilChanged, pairwise, type Subscription, startWith } from 'rxjs';
import type { WebSocket } from 'ws';
import type { ChannelHub } from './channel-hub.js';
import { type ClientOp, parseClientText } from './client-ops.js';
import type { ClientPublisher } from './client-publisher.js';
import { ClientOp as BinaryOp, StatusLevel } from './wire.js';

/** What a connection needs from the endpoint. */
export interface ConnectionContext {
  hub: ChannelHub;
  publisher: ClientPublisher;
  /** Largest frame a client may send, bytes (the gateway's `maxPayloadBytes`). */
  maxPayloadBytes: number;
}

/**
 * One Foxglove client: its subscriptions (held in the {@link ChannelHub}), the channels it
 * advertised to publish on, and the answers to what it sends. Every frame it sends is either served
 * or refused with a `status` naming why; a refusal counts in its principal's record of conduct, so a
 * flood of malformed frames is answered less and less and finally cut off, as on socket.io.
 */
export class FoxgloveConnection {
  readonly #ws: WebSocket;
  readonly #peer: GatewayPeer;
  readonly #ctx: ConnectionContext;
  /** Subscription id → channel id. */
  readonly #subs = new Map<number, number>();
  /** Client channel id → its topic and encoding. */
  readonly #advertised = new Map<number, { topic: string; encoding: string; schemaName: string }>();
  #closed = false;
  readonly #watching: Subscription[] = [];

  constructor(ws: WebSocket, peer: GatewayPeer, ctx: ConnectionContext) {
    this.#ws = ws;
    this.#peer = peer;
    this.#ctx = ctx;
  }

  /**
   * Tells the client what it should know as it happens: control coming to it or leaving it (to whom),
   * and the e-stop — latched when it joins, engaged, cleared — with who did it and why.
   */
  watchFaults(): void {
    const me = this.#peer.id;
    this.#watching.push(
      this.#peer.lease$.pipe(startWith(null), pairwise()).subscribe(([was, now]) => {
        const had = was?.id === me;
        const has = now?.id === me;
        if (!had && has)
          this.status(
            StatusLevel.info,
            `control granted to ${this.#peer.name}: commands from this connection drive the robot`,
            'lease',
          );
        else if (had && !has)
          this.status(
            StatusLevel.warning,
            now ? `control lost: ${now.name} holds control now` : 'control released: nobody holds control',
            'lease',
          );
      }),
      this.#peer.estop$.pipe(distinctUntilChanged((a, b) => a.latched === b.latched)).subscribe((e) => {
        if (e.latched)
          this.status(
            StatusLevel.error,
            `e-stop engaged${e.by ? ` by ${e.by}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
            'estop',
          );
        else if (e.by) this.status(StatusLevel.info, `e-stop cleared by ${e.by}`, 'estop');
      }),
    );
  }

  get peer(): GatewayPeer {
    return this.#peer;
  }

  /** Sends a `status` message (`id` lets the client replace or remove it). */
  status(level: (typeof StatusLevel)[keyof typeof StatusLevel], message: string, id?: string): void {
    this.sendText({ op: 'status', level, message, ...(id ? { id } : {}) });
  }

  sendText(message: unknown): void {
    if (!this.#closed && this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** Sends a binary frame unless the client leaves more than `cap` bytes unread; says whether it went. */
  sendBinary(frame: Buffer, cap: number): boolean {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return false;
    if (this.#ws.bufferedAmount > cap) return false;
    this.#ws.send(frame);
    return true;
  }

  /** Handles one frame from the client. */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    if (data.length > this.#ctx.maxPayloadBytes) {
      this.#refuse(`frame of ${data.length} bytes exceeds the limit of ${this.#ctx.maxPayloadBytes} bytes`);
      return;
    }
    if (isBinary) {
      this.#binary(data);
      return;
    }
    const parsed = parseClientText(data.toString('utf8'));
    if (!parsed.ok) {
      this.#refuse(`invalid message: ${parsed.why}`);
      return;
    }
    this.#op(parsed.value);
  }

  /** Ends the connection from this side (the gateway ended the session, the app stops). */
  hangUp(): void {
    this.close();
    if (this.#ws.readyState === this.#ws.CLOSED) return;
    this.#ws.close(1008, 'session ended');
    setTimeout(() => this.#ws.terminate(), 1_000).unref();
  }

  /** The client left (or the gateway ended its session): every subscription goes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#watching.splice(0)) w.unsubscribe();
    for (const [sub, channel] of this.#subs) this.#ctx.hub.unsubscribe(this, channel, sub);
    this.#subs.clear();
    this.#advertised.clear();
  }

  #op(m: ClientOp): void {
    switch (m.op) {
      case 'subscribe':
        for (const { id, channelId } of m.subscriptions) {
          const limited = this.#peer.request();
          if (!limited.ok) {
            this.#answer(limited);
            return;
          }
          if (this.#subs.has(id)) {
            this.#refuse(`subscription id ${id} is in use`);
            continue;
          }
          const channel = this.#ctx.hub.channel(channelId);
          if (!channel) {
            this.#refuse(`unknown channel ${channelId}`);
            continue;
          }
          const allowed = this.#peer.subscribe(channel.governedBy);
          if (!allowed.ok) {
            this.#answer(allowed, channel.topic);
            continue;
          }
          this.#subs.set(id, channelId);
          this.#ctx.hub.subscribe(this, channelId, id);
        }
        return;
      case 'unsubscribe':
        for (const id of m.subscriptionIds) {
          const channel = this.#subs.get(id);
          if (channel === undefined) {
            this.#refuse(`unknown subscription ${id}`);
            continue;
          }
          this.#subs.delete(id);
          this.#ctx.hub.unsubscribe(this, channel, id);
        }
        return;
      case 'advertise':
        for (const c of m.channels) {
          if (c.encoding !== 'json') {
            this.#refuse(
              `channel ${c.id} (${c.topic.slice(0, 128)}): encoding ${c.encoding.slice(0, 32)} is not served, only json`,
            );
            continue;
          }
          this.#advertised.set(c.id, { topic: c.topic, encoding: c.encoding, schemaName: c.schemaName });
        }
        return;
      case 'unadvertise':
        for (const id of m.channelIds) this.#advertised.delete(id);
        return;
    }
  }

  #binary(data: Buffer): void {
    if (data.length < 1) {
      this.#refuse('empty binary frame');
      return;
    }
    const op = data[0];
    if (op !== BinaryOp.messageData) {
      this.#refuse(
        op === BinaryOp.serviceCallRequest
          ? 'service calls are not served (the services capability is not advertised)'
          : `unknown binary opcode ${op}`,
      );
      return;
    }
    if (data.length < 5) {
      this.#refuse(`messageData of ${data.length} bytes is shorter than its header (5)`);
      return;
    }
    const channelId = data.readUInt32LE(1);
    const channel = this.#advertised.get(channelId);
    if (!channel) {
      this.#refuse(`messageData for channel ${channelId}, which this client did not advertise`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.subarray(5).toString('utf8'));
    } catch {
      this.#refuse(`messageData on ${channel.topic.slice(0, 128)} is not JSON`);
      return;
    }
    void this.#ctx.publisher.publish(this, channel, message).then((answer) => {
      if (answer) this.#answer(answer, channel.topic);
    });
  }

  /** Answers a refusal of the gateway's, if the principal has not earned silence. */
  #answer(a: { ok: false; error: { code: string; message: string }; answer: boolean }, topic?: string): void {
    if (!a.answer) return;
    this.status(
      StatusLevel.error,
      `[${a.error.code}] ${a.error.message}${topic ? ` (topic ${topic.slice(0, 128)})` : ''}`,
    );
  }

  #refuse(why: string): void {
    const conduct = this.#peer.refused();
    if (conduct.answer) this.status(StatusLevel.error, `[E_BAD_REQUEST] ${why}`);
  }
}
