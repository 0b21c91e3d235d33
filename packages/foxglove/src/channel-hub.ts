import type { Logger } from '@telekit/core';
import type { Subscription } from 'rxjs';
import type { ChannelSpec } from './channels.js';
import type { FoxgloveConnection } from './foxglove-connection.js';
import { type Channel, messageData, msToNs } from './wire.js';

/** Bytes a client may leave unread before it misses messages: telemetry, and video. */
const TELEMETRY_CAP = 1_000_000;
const VIDEO_CAP = 8_000_000;

interface Subscriber {
  readonly conn: FoxgloveConnection;
  readonly id: number;
  /** Video: has it had a keyframe since it (re)started? */
  synced: boolean;
}

/**
 * The advertised channels and who watches each. A channel's source runs only while someone is
 * subscribed (the first subscription opens it, the last closes it: a channel nobody watches costs
 * nothing); each message is encoded to JSON once, whoever gets it. A client that leaves too much
 * unread misses messages rather than holding the others back; a video subscriber that missed a
 * picture waits for the next keyframe, so it never gets a picture it cannot decode.
 */
export class ChannelHub {
  readonly #channels = new Map<number, { spec: ChannelSpec; advertised: Channel }>();
  readonly #watching = new Map<number, { subscribers: Subscriber[]; source: Subscription }>();
  readonly #log: Logger;
  /** Messages delivered, per channel topic (for health and the bench). */
  readonly sent = new Map<string, number>();

  constructor(specs: readonly ChannelSpec[], log: Logger) {
    this.#log = log;
    let id = 0;
    for (const spec of specs) {
      id++;
      this.#channels.set(id, {
        spec,
        advertised: {
          id,
          topic: spec.topic,
          encoding: 'json',
          schemaName: spec.schemaName,
          schema: JSON.stringify(spec.schema),
          schemaEncoding: 'jsonschema',
        },
      });
    }
  }

  /** The channels as `advertise` lists them. */
  advertised(): Channel[] {
    return [...this.#channels.values()].map((c) => c.advertised);
  }

  channel(id: number): ChannelSpec | undefined {
    return this.#channels.get(id)?.spec;
  }

  /** Channels with a running source. */
  get open(): string[] {
    return [...this.#watching.keys()].map((id) => this.#channels.get(id)!.spec.topic);
  }

  subscribe(conn: FoxgloveConnection, channelId: number, subscription: number): void {
    const channel = this.#channels.get(channelId);
    if (!channel) return;
    const sub: Subscriber = { conn, id: subscription, synced: false };
    const watching = this.#watching.get(channelId);
    if (watching) {
      watching.subscribers.push(sub);
      return;
    }
    const entry = { subscribers: [sub], source: undefined as Subscription | undefined };
    this.#watching.set(channelId, entry as never);
    const { spec } = channel;
    entry.source = spec.open().subscribe({
      next: (m) => {
        const payload = Buffer.from(JSON.stringify(m.json));
        const stamp = msToNs(m.stampMs);
        for (const s of entry.subscribers) {
          if (spec.video && !s.synced) {
            if (!m.keyframe) continue;
            s.synced = true;
          }
          const went = s.conn.sendBinary(
            messageData(s.id, stamp, payload),
            spec.video ? VIDEO_CAP : TELEMETRY_CAP,
          );
          if (!went && spec.video) s.synced = false;
          if (went) this.sent.set(spec.topic, (this.sent.get(spec.topic) ?? 0) + 1);
        }
      },
      error: (error: unknown) => {
        this.#log.warn('foxglove channel source failed', { topic: spec.topic, error: String(error) });
        for (const s of entry.subscribers) s.conn.status(2, `[E_INTERNAL] ${spec.topic}: ${String(error)}`);
      },
    });
  }

  unsubscribe(conn: FoxgloveConnection, channelId: number, subscription: number): void {
    const watching = this.#watching.get(channelId);
    if (!watching) return;
    const i = watching.subscribers.findIndex((s) => s.conn === conn && s.id === subscription);
    if (i >= 0) watching.subscribers.splice(i, 1);
    if (watching.subscribers.length > 0) return;
    this.#watching.delete(channelId);
    watching.source?.unsubscribe();
  }

  close(): void {
    for (const w of this.#watching.values()) w.source?.unsubscribe();
    this.#watching.clear();
  }
}
