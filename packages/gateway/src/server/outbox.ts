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

interface Slot {
  readonly topic: Topic<unknown>;
  readonly mailbox: Mailbox<Packed>;
  readonly depth: number;
}

/**
 * What the gateway owes one client on one lane: a mailbox per subscribed topic (the lane's rule),
 * drained into the socket only while the socket keeps up. A client that reads slowly fills its
 * socket; the outbox then waits for the transport's `drain` and meanwhile its telemetry mailboxes
 * keep the newest samples and count the rest as dropped. Nothing a slow client does reaches the
 * publisher or the other clients.
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
  #scheduled = false;
  #waiting = false;
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
    },
  ) {
    this.#socket = socket;
    this.#clock = clock;
    this.#onSent = hooks.sent;
    this.#onStale = hooks.stale;
    this.#onDrop = hooks.dropped;
    this.#pace = hooks.pace ?? (() => 0);
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
    if (this.#scheduled || this.#waiting || this.#closed) return;
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
    const batch: [string, Uint8Array][] = [];
    const now = this.#clock.now();
    let control = 0;
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
        if (slot.topic.lane === 'control') control++;
        if (batch.length >= BATCH) break;
      }
      if (slot.mailbox.size === 0) this.#dirty.delete(slot);
      if (batch.length >= BATCH) break;
    }
    if (batch.length > 0) {
      this.#socket.emit('b', batch);
      if (control > 0) this.#onSent('control', control);
      if (batch.length > control) this.#onSent('telemetry', batch.length - control);
      // Anything left waits until this frame has gone out.
      this.#waiting = true;
    }
  }
}
