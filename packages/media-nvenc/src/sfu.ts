import { TelekitError } from '@telekit/core';
import type { types } from 'mediasoup';
import type { Observable, Subscription } from 'rxjs';
import { need, ViewerTransports } from './sfu-viewers.js';

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
  /**
   * The address WebRTC viewers reach; `announcedIp` for a server behind NAT. Default 127.0.0.1.
   * These are for browsers: the encoder's ingest (a PlainTransport) always listens on 127.0.0.1.
   */
  listenIp?: string;
  announcedIp?: string;
  /**
   * A viewer transport whose ICE is not connected for this long (never connected, or lost) is
   * closed and its ports freed. Its DTLS failing or being closed by the browser closes it at once.
   * Default 30 000 ms.
   */
  connectTimeoutMs?: number;
}

/** The address the ingest PlainTransports listen on, and the encoder sends from: loopback only. */
export const INGEST_IP = '127.0.0.1';

/** What `createViewerTransport` answers: the parameters mediasoup-client's `createRecvTransport` takes. */
export interface ViewerTransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

/**
 * The SFU {@link createSfu} makes. Every method validates its arguments and answers an unknown or
 * out-of-order request (a second connect, a resume of an unknown consumer, an unknown transport or
 * stream) with an error that names it, touching nothing else.
 */
export interface Sfu {
  readonly router: types.Router;
  /** The router's RTP capabilities, for a viewer's mediasoup-client `Device`. */
  readonly rtpCapabilities: types.RtpCapabilities;
  /** Open viewer transports. */
  readonly transportCount: number;
  /** Adds a stream; send its RTP (H.264, `payloadType`, `ssrc`) to `ingest`, from loopback. */
  addStream(id: string): Promise<SfuStream>;
  /**
   * Follows a stream's encoder across restarts: the producer is paused while the encoder is down
   * and resumed when it is back, which makes every consumer re-sync on the new encoder's first
   * keyframe (a new ffmpeg starts its RTP sequence numbers and timestamps afresh; without the
   * re-sync a browser may take the new packets for old ones and freeze).
   */
  followEncoder(id: string, status$: Observable<{ running: boolean }>): Subscription;
  stream(id: string): SfuStream | undefined;
  /**
   * A receive transport for one viewer. It closes by itself when its DTLS fails or is closed by
   * the browser, or when its ICE is not connected for `connectTimeoutMs`; `onClose` is told
   * whenever it closes, for whatever reason.
   */
  createViewerTransport(onClose?: () => void): Promise<ViewerTransportInfo>;
  /** The viewer's DTLS parameters for its transport; a second connect is refused. */
  connect(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void>;
  /** A paused consumer of `streamId` on the viewer's transport; resume it once the viewer has set it up. */
  consume(
    transportId: string,
    streamId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<ConsumerInfo>;
  /** Starts sending to the viewer, with a keyframe as soon as the encoder gives one. */
  resume(consumerId: string): Promise<void>;
  /** Consumers on a viewer's transport, those being set up included (0 for an unknown transport). */
  consumerCount(transportId: string): number;
  /** The transport a consumer belongs to, if the consumer exists. */
  transportOfConsumer(consumerId: string): string | undefined;
  /** Closes a viewer's transport (and its consumers). Unknown or closed: nothing happens. */
  closeTransport(transportId: string): void;
  /** The live consumers (one per viewer of a stream), with the stream each watches. */
  consumers(): { id: string; stream: string; consumer: types.Consumer }[];
  /** Live consumers of a stream. */
  viewers(streamId: string): number;
  /** Closes the router, and with it every transport, producer and consumer. */
  close(): void;
}

let ssrcSeed = 1000;

/** A stream's ingest: a PlainTransport on loopback and the H.264 producer the encoder's RTP feeds. */
async function createIngest(router: types.Router, id: string): Promise<SfuStream> {
  const plain = await router.createPlainTransport({
    listenIp: INGEST_IP,
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
  return {
    id,
    producer,
    ingest: { host: INGEST_IP, port: plain.tuple.localPort, payloadType, ssrc },
  };
}

/**
 * The SFU: a mediasoup Router per group of streams, a PlainTransport ingest per stream on loopback
 * (the encoder sends RTP to it), a WebRtcTransport per viewer on `listenIp`. N viewers of a stream
 * cost one encode.
 *
 * @example
 * ```ts
 * import { createSfu, createWorker } from '@telekit/media-nvenc';
 * const sfu = await createSfu({ worker: await createWorker() });
 * const { ingest } = await sfu.addStream('cam'); // send H.264 RTP from 127.0.0.1 to ingest.port
 * ```
 */
export async function createSfu(options: SfuOptions): Promise<Sfu> {
  const router = await options.worker.createRouter({ mediaCodecs: [H264_CODEC] });
  const streams = new Map<string, SfuStream>();
  const viewers = new ViewerTransports({
    router,
    streams,
    listenIp: options.listenIp ?? '127.0.0.1',
    ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}),
    connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
  });

  return {
    router,
    get rtpCapabilities(): types.RtpCapabilities {
      return router.rtpCapabilities;
    },

    async addStream(id: string): Promise<SfuStream> {
      if (streams.has(id))
        throw new TelekitError('E_MEDIA_SIGNALLING', 'stream already exists', { context: { stream: id } });
      const stream = await createIngest(router, id);
      streams.set(id, stream);
      return stream;
    },

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

    createViewerTransport: (onClose?: () => void): Promise<ViewerTransportInfo> => viewers.create(onClose),
    connect: (transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> =>
      viewers.connect(transportId, dtlsParameters),
    consume: (
      transportId: string,
      streamId: string,
      rtpCapabilities: types.RtpCapabilities,
    ): Promise<ConsumerInfo> => viewers.consume(transportId, streamId, rtpCapabilities),
    resume: (consumerId: string): Promise<void> => viewers.resume(consumerId),
    consumerCount: (transportId: string): number => viewers.consumerCount(transportId),
    get transportCount(): number {
      return viewers.count;
    },
    transportOfConsumer: (consumerId: string): string | undefined => viewers.transportOfConsumer(consumerId),
    closeTransport: (transportId: string): void => viewers.close(transportId),
    consumers: (): { id: string; stream: string; consumer: types.Consumer }[] => viewers.consumers(),
    viewers: (streamId: string): number => viewers.viewers(streamId),

    close(): void {
      router.close();
    },
  };
}
