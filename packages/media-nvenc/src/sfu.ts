import { TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';
import type { Observable, Subscription } from 'rxjs';

/** H.264 constrained baseline: what every browser decodes in hardware or software. */
export const H264_CODEC: types.RtpCodecCapability = {
  kind: 'video',
  mimeType: 'video/H264',
  clockRate: 90000,
  parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
};

/** A stream the SFU carries: one encoder in, any number of viewers out. */
export interface SfuStream {
  readonly id: string;
  readonly producer: types.Producer;
  /** Where the encoder sends RTP. */
  readonly ingest: { host: string; port: number; payloadType: number; ssrc: number };
}

/** What a viewer gets back from `consume`, for mediasoup-client's `transport.consume`. */
export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: 'video' | 'audio';
  rtpParameters: types.RtpParameters;
}

/** Options of {@link createSfu}. */
export interface SfuOptions {
  worker: types.Worker;
  /** The address WebRTC viewers reach; `announcedIp` for a server behind NAT. Default 127.0.0.1. */
  listenIp?: string;
  announcedIp?: string;
}

let ssrcSeed = 1000;

/**
 * The SFU: a mediasoup Router per group of streams, a PlainTransport ingest per stream (the encoder
 * sends RTP to it), a WebRtcTransport per viewer. N viewers of a stream cost one encode.
 *
 * Every method validates its arguments and answers an unknown or out-of-order request (a second
 * connect, a resume of an unknown consumer, an unknown transport or stream) with an error that names it, touching nothing
 * else.
 */
export async function createSfu(options: SfuOptions) {
  const router = await options.worker.createRouter({ mediaCodecs: [H264_CODEC] });
  const listenIp = options.listenIp ?? '127.0.0.1';
  const streams = new Map<string, SfuStream>();
  const transports = new Map<string, { transport: types.WebRtcTransport; connected: boolean }>();
  const consumers = new Map<string, types.Consumer>();
  const consumerTransport = new Map<string, string>();

  const need = <T>(value: T | undefined, what: string, id: unknown): T => {
    if (value === undefined)
      throw new TelekitError('E_MEDIA_SIGNALLING', `unknown ${what}`, {
        context: { [what]: String(id).slice(0, 64) },
      });
    return value;
  };

  return {
    router,
    get rtpCapabilities(): types.RtpCapabilities {
      return router.rtpCapabilities;
    },

    /** Adds a stream; send its RTP (H.264, `payloadType`, `ssrc`) to `ingest`. */
    async addStream(id: string): Promise<SfuStream> {
      if (streams.has(id))
        throw new TelekitError('E_MEDIA_SIGNALLING', 'stream already exists', { context: { stream: id } });
      const plain = await router.createPlainTransport({
        listenIp: '127.0.0.1',
        rtcpMux: true,
        comedia: true,
      });
      const ssrc = ssrcSeed++;
      const payloadType = 102;
      const producer = await plain.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/H264',
              payloadType,
              clockRate: 90000,
              parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
              rtcpFeedback: [],
            },
          ],
          encodings: [{ ssrc }],
        },
      });
      // Count keyframes as they arrive (the stats report them).
      await producer.enableTraceEvent(['keyframe']);
      const stream = {
        id,
        producer,
        ingest: { host: '127.0.0.1', port: plain.tuple.localPort, payloadType, ssrc },
      };
      streams.set(id, stream);
      return stream;
    },

    /**
     * Follows a stream's encoder across restarts: the producer is paused while the encoder is down
     * and resumed when it is back, which makes every consumer re-sync on the new encoder's first
     * keyframe (a new ffmpeg starts its RTP sequence numbers and timestamps afresh; without the
     * re-sync a browser may take the new packets for old ones and freeze).
     */
    followEncoder(id: string, status$: Observable<{ running: boolean }>): Subscription {
      const stream = need(streams.get(id), 'stream', id);
      let wasRunning = true;
      return status$.subscribe(({ running }) => {
        if (running === wasRunning || stream.producer.closed) return;
        wasRunning = running;
        void (running ? stream.producer.resume() : stream.producer.pause()).catch(() => undefined);
      });
    },

    stream(id: string): SfuStream | undefined {
      return streams.get(id);
    },

    /** A receive transport for one viewer. */
    async createViewerTransport() {
      const transport = await router.createWebRtcTransport({
        listenIps: [{ ip: listenIp, ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}) }],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
      });
      transports.set(transport.id, { transport, connected: false });
      transport.observer.once('close', () => transports.delete(transport.id));
      return {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
      };
    },

    async connect(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
      const t = need(transports.get(transportId), 'transport', transportId);
      if (t.connected)
        throw new TelekitError('E_MEDIA_SIGNALLING', 'transport already connected', {
          context: { transport: transportId },
        });
      await t.transport.connect({ dtlsParameters });
      t.connected = true;
    },

    /** A paused consumer of `streamId` on the viewer's transport; resume it once the viewer has set it up. */
    async consume(
      transportId: string,
      streamId: string,
      rtpCapabilities: types.RtpCapabilities,
    ): Promise<ConsumerInfo> {
      // mediasoup-client connects the transport (DTLS) when it sets the first consumer up, so a
      // consume comes before the connect.
      const t = need(transports.get(transportId), 'transport', transportId);
      const stream = need(streams.get(streamId), 'stream', streamId);
      if (!router.canConsume({ producerId: stream.producer.id, rtpCapabilities })) {
        throw new TelekitError(
          'E_MEDIA_SIGNALLING',
          'the viewer cannot decode this stream (no H.264 in its capabilities)',
          { context: { stream: streamId } },
        );
      }
      const consumer = await t.transport.consume({
        producerId: stream.producer.id,
        rtpCapabilities,
        paused: true,
      });
      consumers.set(consumer.id, consumer);
      consumerTransport.set(consumer.id, transportId);
      consumer.observer.once('close', () => {
        consumers.delete(consumer.id);
        consumerTransport.delete(consumer.id);
      });
      return {
        id: consumer.id,
        producerId: stream.producer.id,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
      };
    },

    /** Starts sending to the viewer, with a keyframe as soon as the encoder gives one. */
    async resume(consumerId: string): Promise<void> {
      const consumer = need(consumers.get(consumerId), 'consumer', consumerId);
      await consumer.resume();
      await consumer.requestKeyFrame();
    },

    /** The transport a consumer belongs to, if the consumer exists. */
    transportOfConsumer(consumerId: string): string | undefined {
      return consumerTransport.get(consumerId);
    },

    /** Closes a viewer's transport (and its consumers). */
    closeTransport(transportId: string): void {
      transports.get(transportId)?.transport.close();
    },

    /** The live consumers (one per viewer of a stream), with the stream each watches. */
    consumers(): { id: string; stream: string; consumer: types.Consumer }[] {
      const byProducer = new Map([...streams.values()].map((st) => [st.producer.id, st.id]));
      return [...consumers.values()]
        .filter((c) => !c.closed)
        .map((c) => ({ id: c.id, stream: byProducer.get(c.producerId) ?? '', consumer: c }));
    },

    viewers(streamId: string): number {
      const stream = streams.get(streamId);
      if (!stream) return 0;
      let n = 0;
      for (const c of consumers.values()) if (c.producerId === stream.producer.id && !c.closed) n++;
      return n;
    },

    close(): void {
      router.close();
    },
  };
}

/** The SFU `createSfu` returns. */
export type Sfu = Awaited<ReturnType<typeof createSfu>>;
