import type { Clock } from '@telekit/core';
import type { PeerAnswer } from '@telekit/gateway';
import type { FoxgloveConnection } from './foxglove-connection.js';

/** A refusal to answer with a status. */
export type Refusal = Extract<PeerAnswer, { ok: false }>;

/**
 * What a Foxglove client publishes (`clientPublish`, JSON) on its way into the gateway, which
 * decides: the gateway's own command path (allow-list, schema, the safety chain, rates) and nothing
 * else. This class only translates:
 *
 * 1. the topic: a gateway topic by its name, or an alias (`/cmd_vel` → `/controller/twist`, what
 *    the Teleop panel publishes by default);
 * 2. the header: a message without one (the Teleop panel sends a bare `geometry_msgs/Twist`) gets
 *    this client's next sequence number and the gateway's clock now; the gateway stamps the sender;
 * 3. control: a command refused only because someone must hold the lease asks for the lease once
 *    (`acquire`, never a takeover) and is sent again when granted — a Foxglove client has no lease
 *    button, so publishing is asking. Whatever else refuses it is answered as the gateway said.
 */
export class ClientPublisher {
  readonly #aliases: ReadonlyMap<string, string>;
  readonly #clock: Clock;
  readonly #seq = new WeakMap<FoxgloveConnection, Map<string, number>>();

  constructor(aliases: Readonly<Record<string, string>>, clock: Clock) {
    this.#aliases = new Map(Object.entries(aliases));
    this.#clock = clock;
  }

  /** Publishes; resolves with the refusal to answer, or undefined when admitted. */
  async publish(
    conn: FoxgloveConnection,
    channel: { topic: string },
    message: unknown,
  ): Promise<Refusal | undefined> {
    const topic = this.#aliases.get(channel.topic) ?? channel.topic;
    const msg = this.#withHeader(conn, topic, message);
    const first = conn.peer.publish(topic, msg);
    if (first.ok) return undefined;
    if (first.error.code !== 'E_NOT_HOLDER') return first;
    const lease = await conn.peer.lease('acquire');
    if (!lease.granted) return first;
    conn.status(
      0,
      `control granted to ${conn.peer.name}: commands from this connection now drive the robot`,
      'lease',
    );
    const again = conn.peer.publish(topic, this.#withHeader(conn, topic, message));
    return again.ok ? undefined : again;
  }

  #withHeader(conn: FoxgloveConnection, topic: string, message: unknown): unknown {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return message;
    if ('header' in message) return message;
    let seqs = this.#seq.get(conn);
    if (!seqs) {
      seqs = new Map();
      this.#seq.set(conn, seqs);
    }
    const seq = seqs.get(topic) ?? 0;
    seqs.set(topic, seq + 1);
    return { header: { seq, stamp: this.#clock.now(), sender: conn.peer.id }, ...message };
  }
}
