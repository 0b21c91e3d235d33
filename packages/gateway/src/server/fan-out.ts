import { checkMessage, type Logger, type Topic, type Transport } from '@telekit/core';
import { isValidated } from '@telekit/core/schemas';
import type { Subscription } from 'rxjs';
import { packMessage } from '../codec.js';
import { laneOf } from '../protocol.js';
import type { Backplane } from './backplane.js';
import type { GatewayMetrics } from './metrics.js';
import type { Packed } from './outbox.js';
import type { Sessions } from './session.js';

/**
 * From the app's transport to the clients who asked: the gateway subscribes to a topic while at
 * least one client wants it (demand counted per topic), encodes each message once however many
 * clients get it, keeps the last telemetry sample for late joiners, and with several instances
 * relays telemetry through the backplane so clients of one see the robot of another.
 *
 * Every message is validated against its topic's schema once, here, before it is encoded (unless the
 * app's transport validated it already — core marks what it validated): clients trust what an
 * authenticated gateway sends and only decode it (`inboundValidation: 'gateway'`). A message that
 * fails is dropped, counted (`telekit_dropped_total{reason="invalid"}`) and logged once per topic.
 */
export class FanOut {
  readonly #transport: Transport;
  readonly #sessions: Sessions;
  readonly #backplane: Backplane;
  readonly #relay: boolean;
  readonly #demand = new Map<string, { count: number; sub: Subscription }>();
  readonly #last = new Map<string, Packed>();
  readonly #metrics: GatewayMetrics;
  readonly #log: Logger;
  readonly #invalidTopics = new Set<string>();

  constructor(
    transport: Transport,
    sessions: Sessions,
    backplane: Backplane,
    relay: boolean,
    observe: { metrics: GatewayMetrics; log: Logger },
  ) {
    this.#transport = transport;
    this.#sessions = sessions;
    this.#backplane = backplane;
    this.#relay = relay;
    this.#metrics = observe.metrics;
    this.#log = observe.log;
  }

  /** Hands `message` on `topic` to every client subscribed to it (validated first, if need be). */
  deliver(topic: Topic, message: unknown): void {
    const lane = laneOf(topic);
    if (!isValidated(message)) {
      const checked = checkMessage(topic, message);
      if (!checked.ok) {
        this.#metrics.drops.inc({ lane, reason: 'invalid' });
        if (!this.#invalidTopics.has(topic.name)) {
          this.#invalidTopics.add(topic.name);
          this.#log.warn(
            'invalid message from the app dropped (further ones on this topic are only counted)',
            {
              topic: topic.name,
              field: checked.error.field,
              error: checked.error.message,
            },
          );
        }
        return;
      }
      message = checked.value;
    }
    // Encoded once, however many clients get it.
    let packed: Packed | undefined;
    if (lane === 'telemetry') {
      packed = { message, bytes: packMessage(message) };
      this.#last.set(topic.name, packed);
    }
    for (const s of this.#sessions.values()) {
      const outbox = s.outboxes[lane];
      if (!outbox?.has(topic.name)) continue;
      packed ??= { message, bytes: packMessage(message) };
      outbox.push(topic.name, packed);
    }
  }

  /** The last telemetry sample on `topic`, for a client subscribing now. */
  last(topic: string): Packed | undefined {
    return this.#last.get(topic);
  }

  /** One more client wants `topic`: subscribe to the app while anyone does. */
  want(topic: Topic): void {
    const d = this.#demand.get(topic.name);
    if (d) {
      d.count++;
      return;
    }
    const sub = this.#transport.subscribe(topic, { depth: 1024 }).subscribe((m) => {
      this.deliver(topic, m);
      if (this.#relay && topic.lane === 'telemetry')
        this.#backplane.relay({ lane: 'telemetry', topic: topic.name, message: m });
    });
    this.#demand.set(topic.name, { count: 1, sub });
  }

  /** One client fewer wants `topic`. */
  unwant(topic: string): void {
    const d = this.#demand.get(topic);
    if (!d || --d.count > 0) return;
    d.sub.unsubscribe();
    this.#demand.delete(topic);
    this.#last.delete(topic);
  }

  close(): void {
    for (const d of this.#demand.values()) d.sub.unsubscribe();
    this.#demand.clear();
    this.#last.clear();
  }
}
