/**
 * The holds media signalling takes on streams through `MediaDemand`: a viewer's standby hold from
 * its `/media/join` (ending after `joinHoldMs` without a consumer), its consumer's standby hold until
 * the viewer resumes it and then a full one for the consumer's life, and an HLS client's full hold
 * for `hlsHoldMs` after each file it fetches. Without a `MediaDemand` nothing is held.
 */
import type { types } from 'mediasoup';
import type { MediaDemand, Release } from './media-demand.js';

/** A hold that ends by itself unless renewed. */
interface TimedHold {
  readonly release: Release;
  timer: ReturnType<typeof setTimeout>;
}

const timedHold = (release: Release, ms: number, onEnd: () => void): TimedHold => {
  const timer = setTimeout(() => {
    onEnd();
    release();
  }, ms);
  timer.unref?.();
  return { release, timer };
};

/** What {@link MediaHolds} holds through, and for how long. */
export interface MediaHoldsOptions {
  demand?: MediaDemand;
  /** How long a join holds its stream without a consumer, ms. */
  joinHoldMs: number;
  /** How long one HLS request holds its stream, ms. */
  hlsHoldMs: number;
}

/** The streams held for joining viewers, their consumers and HLS clients. */
export class MediaHolds {
  readonly #demand: MediaDemand | undefined;
  readonly #joinHoldMs: number;
  readonly #hlsHoldMs: number;
  /** Holds from `/media/join`, by client and stream, until a consumer takes over (or time runs out). */
  readonly #joinHolds = new Map<string, Map<string, TimedHold>>();
  /** Holds from HLS requests, by stream. */
  readonly #hlsHolds = new Map<string, TimedHold>();
  /** Consumers on standby until their viewer resumes them. */
  readonly #consumerHolds = new Map<string, { stream: string; who: string; standby: Release }>();

  constructor(options: MediaHoldsOptions) {
    this.#demand = options.demand;
    this.#joinHoldMs = options.joinHoldMs;
    this.#hlsHoldMs = options.hlsHoldMs;
  }

  /** Holds `stream` on standby for a joining client, or renews its hold. */
  join(clientId: string, stream: string): void {
    if (!this.#demand) return;
    let holds = this.#joinHolds.get(clientId);
    if (!holds) {
      holds = new Map();
      this.#joinHolds.set(clientId, holds);
    }
    const held = holds.get(stream);
    if (held) {
      held.timer.refresh();
      return;
    }
    holds.set(
      stream,
      timedHold(this.#demand.standby(stream, `webrtc:${clientId}`), this.#joinHoldMs, () => {
        holds!.delete(stream);
        if (holds!.size === 0) this.#joinHolds.delete(clientId);
      }),
    );
  }

  /** Ends a client's join hold on `stream`, if it has one. */
  endJoin(clientId: string, stream: string): void {
    const holds = this.#joinHolds.get(clientId);
    const hold = holds?.get(stream);
    if (!hold) return;
    clearTimeout(hold.timer);
    holds!.delete(stream);
    if (holds!.size === 0) this.#joinHolds.delete(clientId);
    hold.release();
  }

  /** Ends all of a client's join holds. */
  endJoins(clientId: string): void {
    for (const stream of [...(this.#joinHolds.get(clientId)?.keys() ?? [])]) this.endJoin(clientId, stream);
  }

  /**
   * A new consumer holds its stream on standby until the viewer resumes it (its transport and
   * consumer are ready), then fully: the source starts then, so the fresh encoder's first frame —
   * a keyframe — comes after the viewer can take it.
   */
  consumer(stream: string, clientId: string, consumer: types.Consumer): void {
    if (!this.#demand) return;
    const standby = this.#demand.standby(stream, `webrtc:${clientId}`);
    consumer.observer.once('close', () => {
      standby();
      this.#consumerHolds.delete(consumer.id);
    });
    this.#consumerHolds.set(consumer.id, { stream, who: `webrtc:${clientId}`, standby });
  }

  /** A consumer was resumed: its standby hold becomes a full one for as long as it lives. */
  resumed(consumerId: string, consumer: types.Consumer | undefined): void {
    const held = this.#consumerHolds.get(consumerId);
    if (held && this.#demand && consumer && !consumer.closed) {
      this.#consumerHolds.delete(consumerId);
      consumer.observer.once('close', this.#demand.acquire(held.stream, held.who));
      held.standby();
    }
  }

  /** An HLS file of `stream` was fetched: hold it for `hlsHoldMs` more. */
  hls(stream: string): void {
    if (!this.#demand) return;
    const held = this.#hlsHolds.get(stream);
    if (held) held.timer.refresh();
    else
      this.#hlsHolds.set(
        stream,
        timedHold(this.#demand.acquire(stream, 'hls'), this.#hlsHoldMs, () => this.#hlsHolds.delete(stream)),
      );
  }

  /** Ends the join and HLS holds (consumers' holds end with their consumers). */
  close(): void {
    for (const clientId of [...this.#joinHolds.keys()]) this.endJoins(clientId);
    for (const hold of this.#hlsHolds.values()) {
      clearTimeout(hold.timer);
      hold.release();
    }
    this.#hlsHolds.clear();
  }
}
