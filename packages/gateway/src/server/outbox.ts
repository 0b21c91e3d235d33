import type { Clock, Header, Topic } from '@telekit/core';
import { checkDeadline } from '@telekit/core/safety';
import { Mailbox } from '@telekit/core/transport';
import type { Socket } from 'socket.io';

/** A message and its msgpack bytes, encoded once for every client that gets it. */
export interface Packed {
  readonly message: unknown;
  readonly bytes: Uint8Array;
}

/** Most messages in one `b` frame. */
const BATCH = 256;
/**
 * Most message bytes in one `b` frame (a larger message goes alone). With the acknowledgements it
 * bounds what a client that acknowledges batches has on the way to under 160 KiB: ~130 ms on a
 * 10 Mbit/s link; 3 MB/s of telemetry at 40 ms round trip.
 */
const BATCH_BYTES = 32 * 1024;
/**
 * Flow control with a client that acknowledges batches: every batch that completes another
 * {@link ACK_EVERY_BYTES} asks for an acknowledgement, and no batch goes while
 * {@link ACKS_IN_FLIGHT} such requests are unanswered. What the link cannot carry then waits here —
 * where a newer sample replaces it — rather than in socket buffers, where it only grows old; and a
 * trickle of small messages (an operator's actuation reports) asks for no acknowledgement at all.
 */
export const ACK_EVERY_BYTES = 32 * 1024;
export const ACKS_IN_FLIGHT = 2;

interface Slot {
  readonly topic: Topic<unknown>;
  readonly mailbox: Mailbox<Packed>;
  readonly depth: number;
}

/**
 * What the gateway owes one client on one lane: a mailbox per subscribed topic (the lane's rule),
 * drained into the socket only while the socket keeps up. A client that reads slowly fills its
 * socket; the outbox then waits for the transport's `drain` and meanwhile its telemetry mailboxes
 * keep the newest samples and count the rest as dropped. A client that acknowledges batches (the
 * gateway's own client does) is held to {@link ACKS_IN_FLIGHT} unanswered acknowledgement requests,
 * so behind a slow link telemetry does not queue in socket buffers — where it arrived half a second
 * old — but waits here to be replaced by newer samples. Nothing a slow client does reaches the publisher
 * or the other clients.
 */
export class Outbox {
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #slots = new Map<string, Slot>();
  readonly #dirty = new Set<Slot>();
  readonly #onSent: (lane: 'control' | 'telemetry', n: number) => void;
  readonly #onStale: () => void;
  readonly #onDrop: () => void;
  readonly #pace: () => number;
  readonly #acknowledged: boolean;
  #scheduled = false;
  #waiting = false;
  /**
   * With `acknowledged`: bytes sent since the last batch that asked for an acknowledgement, such
   * requests unanswered, and whether a flush waits for an answer.
   */
  #sinceAsked = 0;
  #asked = 0;
  #awaitingAck = false;
  #closed = false;

  constructor(
    socket: Socket,
    clock: Clock,
    hooks: {
      sent: (lane: 'control' | 'telemetry', n: number) => void;
      stale: () => void;
      dropped: () => void;
      /** How long to wait before sending telemetry, ms (0: at once; more while the gateway is overloaded). */
      pace?: () => number;
      /**
       * The client acknowledges the batches that ask it to (see {@link ACK_EVERY_BYTES}). Without
       * it (a client that does not), the socket's own backpressure is all there is.
       */
      acknowledged?: boolean;
    },
  ) {
    this.#socket = socket;
    this.#clock = clock;
    this.#onSent = hooks.sent;
    this.#onStale = hooks.stale;
    this.#onDrop = hooks.dropped;
    this.#pace = hooks.pace ?? (() => 0);
    this.#acknowledged = hooks.acknowledged ?? false;
    const transport = socket.conn.transport as unknown as NodeJS.EventEmitter;
    transport.on('drain', () => {
      if (this.#waiting) {
        this.#waiting = false;
        this.#arm(this.#pace());
      }
    });
  }

  get topics(): string[] {
    return [...this.#slots.keys()];
  }

  has(topic: string): boolean {
    return this.#slots.has(topic);
  }

  open(topic: Topic<unknown>, depth: number): void {
    if (this.#slots.has(topic.name)) return;
    this.#slots.set(topic.name, {
      topic,
      depth: topic.lane === 'control' ? 1 : depth,
      mailbox: new Mailbox(topic.lane === 'control' ? { kind: 'latest' } : { kind: 'keep-last', depth }),
    });
  }

  close(topic: string): boolean {
    const slot = this.#slots.get(topic);
    if (!slot) return false;
    this.#slots.delete(topic);
    this.#dirty.delete(slot);
    return true;
  }

  push(topic: string, message: Packed): void {
    const slot = this.#slots.get(topic);
    if (!slot || this.#closed) return;
    if (slot.topic.lane === 'telemetry' && slot.mailbox.size === slot.depth) this.#onDrop();
    slot.mailbox.push(message);
    this.#dirty.add(slot);
    this.#arm(slot.topic.lane === 'control' ? 0 : this.#pace());
  }

  /** Telemetry samples this client lost for lagging. */
  dropped(): number {
    let n = 0;
    for (const s of this.#slots.values()) n += s.mailbox.stats().dropped;
    return n;
  }

  shutdown(): void {
    this.#closed = true;
    this.#slots.clear();
    this.#dirty.clear();
  }

  #arm(delayMs = 0): void {
    if (this.#scheduled || this.#waiting || this.#awaitingAck || this.#closed) return;
    this.#scheduled = true;
    // A microtask: after the publisher's synchronous burst (so it goes out as one frame), before I/O.
    // Overloaded, telemetry waits a little and goes out in fewer, larger frames.
    if (delayMs > 0) setTimeout(() => this.#flush(), delayMs);
    else queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#closed || !this.#socket.connected) return;
    const conn = this.#socket.conn as unknown as { writeBuffer: unknown[]; transport: { writable: boolean } };
    if (conn.writeBuffer.length > 0 || !conn.transport.writable) {
      this.#waiting = true;
      return;
    }
    if (this.#acknowledged && this.#asked >= ACKS_IN_FLIGHT) {
      this.#awaitingAck = true;
      return;
    }
    const batch: [string, Uint8Array][] = [];
    const now = this.#clock.now();
    let control = 0;
    let bytes = 0;
    for (const slot of this.#dirty) {
      for (let m = slot.mailbox.take(); m !== undefined; m = slot.mailbox.take()) {
        const header = (m.message as { header?: Header } | undefined)?.header;
        if (
          slot.topic.lane === 'control' &&
          header &&
          !checkDeadline(header, now, { ttl: slot.topic.ttl }).fresh
        ) {
          slot.mailbox.expired();
          this.#onStale();
          continue;
        }
        slot.mailbox.delivered();
        batch.push([slot.topic.name, m.bytes]);
        bytes += m.bytes.byteLength;
        if (slot.topic.lane === 'control') control++;
        if (batch.length >= BATCH || bytes >= BATCH_BYTES) break;
      }
      if (slot.mailbox.size === 0) this.#dirty.delete(slot);
      if (batch.length >= BATCH || bytes >= BATCH_BYTES) break;
    }
    if (batch.length > 0) {
      if (this.#acknowledged) this.#sinceAsked += bytes;
      if (this.#acknowledged && this.#sinceAsked >= ACK_EVERY_BYTES) {
        this.#sinceAsked = 0;
        this.#asked++;
        this.#socket.emit('b', batch, () => this.#acked());
      } else this.#socket.emit('b', batch);
      if (control > 0) this.#onSent('control', control);
      if (batch.length > control) this.#onSent('telemetry', batch.length - control);
      // Anything left waits until this frame has gone out.
      this.#waiting = true;
    }
  }

  /** The client read a batch that asked for an acknowledgement: the next may go. */
  #acked(): void {
    if (this.#asked > 0) this.#asked--;
    if (!this.#awaitingAck) return;
    this.#awaitingAck = false;
    this.#arm(this.#pace());
  }
}
