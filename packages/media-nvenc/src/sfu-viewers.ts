/**
 * The SFU's viewer side: one WebRtcTransport per viewer (its connect timeout, its DTLS watch), the
 * paused consumers made on it and their resume, and the counts the signalling's limits and the
 * monitor read. The streams themselves (the ingests and their producers) are `createSfu`'s; this
 * module only looks them up by id.
 */
import { TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';
import type { ConsumerInfo, SfuStream, ViewerTransportInfo } from './sfu.js';

/** The first line of an error's message, for answers that quote mediasoup's reason. */
const reason = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);

/** `value`, or an `E_MEDIA_SIGNALLING` error naming the unknown `what` and its id. */
export const need = <T>(value: T | undefined, what: string, id: unknown): T => {
  if (value === undefined)
    throw new TelekitError('E_MEDIA_SIGNALLING', `unknown ${what}`, {
      context: { [what]: String(id).slice(0, 64) },
    });
  return value;
};

/** What {@link ViewerTransports} needs from the SFU. */
export interface ViewerTransportsOptions {
  router: types.Router;
  /** The SFU's streams by id (read only here). */
  streams: ReadonlyMap<string, SfuStream>;
  listenIp: string;
  announcedIp?: string;
  connectTimeoutMs: number;
}

/** A viewer's transport and what the SFU tracks of it. */
interface ViewerTransport {
  transport: types.WebRtcTransport;
  connected: boolean;
  consumers: number;
}

/** The viewers' transports and consumers, behind the `Sfu` methods of the same names. */
export class ViewerTransports {
  readonly #options: ViewerTransportsOptions;
  readonly #transports = new Map<string, ViewerTransport>();
  readonly #consumers = new Map<string, types.Consumer>();
  readonly #consumerTransport = new Map<string, string>();

  constructor(options: ViewerTransportsOptions) {
    this.#options = options;
  }

  get count(): number {
    return this.#transports.size;
  }

  async create(onClose?: () => void): Promise<ViewerTransportInfo> {
    const { router, listenIp, announcedIp, connectTimeoutMs } = this.#options;
    const transport = await router.createWebRtcTransport({
      listenIps: [{ ip: listenIp, ...(announcedIp ? { announcedIp } : {}) }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
    this.#transports.set(transport.id, { transport, connected: false, consumers: 0 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      timer ??= setTimeout(() => transport.close(), connectTimeoutMs);
      timer.unref?.();
    };
    const disarm = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    arm();
    transport.on('icestatechange', (state) =>
      state === 'connected' || state === 'completed' ? disarm() : arm(),
    );
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') transport.close();
    });
    transport.observer.once('close', () => {
      disarm();
      this.#transports.delete(transport.id);
      onClose?.();
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connect(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const t = need(this.#transports.get(transportId), 'transport', transportId);
    if (t.connected)
      throw new TelekitError('E_MEDIA_SIGNALLING', 'transport already connected', {
        context: { transport: transportId },
      });
    // Marked before the await, so a second connect racing the first is refused too.
    t.connected = true;
    try {
      await t.transport.connect({ dtlsParameters });
    } catch (cause) {
      t.connected = false;
      if (t.transport.closed)
        throw new TelekitError('E_MEDIA_SIGNALLING', 'transport closed', {
          context: { transport: transportId },
        });
      throw new TelekitError('E_MEDIA_SIGNALLING', `invalid dtlsParameters: ${reason(cause)}`, {
        cause,
        context: { field: 'dtlsParameters' },
      });
    }
  }

  async consume(
    transportId: string,
    streamId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<ConsumerInfo> {
    // mediasoup-client connects the transport (DTLS) when it sets the first consumer up, so a
    // consume comes before the connect.
    const t = need(this.#transports.get(transportId), 'transport', transportId);
    const stream = need(this.#options.streams.get(streamId), 'stream', streamId);
    let consumable = false;
    try {
      consumable = this.#options.router.canConsume({ producerId: stream.producer.id, rtpCapabilities });
    } catch {
      // not valid RTP capabilities: answered below
    }
    if (!consumable) {
      throw new TelekitError(
        'E_MEDIA_SIGNALLING',
        'rtpCapabilities: the viewer cannot decode this stream (no H.264 in valid RTP capabilities)',
        { context: { stream: streamId, field: 'rtpCapabilities' } },
      );
    }
    // Counted before the await, so concurrent requests cannot pass a cap together.
    t.consumers++;
    let consumer: types.Consumer;
    try {
      consumer = await t.transport.consume({
        producerId: stream.producer.id,
        rtpCapabilities,
        paused: true,
      });
    } catch (cause) {
      t.consumers--;
      throw new TelekitError(
        'E_MEDIA_SIGNALLING',
        t.transport.closed ? 'transport closed' : `consume failed: ${reason(cause)}`,
        { cause, context: { transport: transportId, stream: streamId } },
      );
    }
    this.#consumers.set(consumer.id, consumer);
    this.#consumerTransport.set(consumer.id, transportId);
    consumer.observer.once('close', () => {
      t.consumers--;
      this.#consumers.delete(consumer.id);
      this.#consumerTransport.delete(consumer.id);
    });
    return {
      id: consumer.id,
      producerId: stream.producer.id,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
    };
  }

  async resume(consumerId: string): Promise<void> {
    const consumer = need(this.#consumers.get(consumerId), 'consumer', consumerId);
    try {
      await consumer.resume();
      await consumer.requestKeyFrame();
    } catch (cause) {
      throw new TelekitError(
        'E_MEDIA_SIGNALLING',
        consumer.closed ? 'consumer closed' : `resume failed: ${reason(cause)}`,
        { cause, context: { consumer: consumerId } },
      );
    }
  }

  consumerCount(transportId: string): number {
    return this.#transports.get(transportId)?.consumers ?? 0;
  }

  transportOfConsumer(consumerId: string): string | undefined {
    return this.#consumerTransport.get(consumerId);
  }

  close(transportId: string): void {
    this.#transports.get(transportId)?.transport.close();
  }

  consumers(): { id: string; stream: string; consumer: types.Consumer }[] {
    const byProducer = new Map([...this.#options.streams.values()].map((st) => [st.producer.id, st.id]));
    return [...this.#consumers.values()]
      .filter((c) => !c.closed)
      .map((c) => ({ id: c.id, stream: byProducer.get(c.producerId) ?? '', consumer: c }));
  }

  viewers(streamId: string): number {
    const stream = this.#options.streams.get(streamId);
    if (!stream) return 0;
    let n = 0;
    for (const c of this.#consumers.values()) if (c.producerId === stream.producer.id && !c.closed) n++;
    return n;
  }
}
