/**
 * How `<telekit-camera-viewer>` plays a stream in its `<video>`, as the {@link VideoSession}s a
 * {@link VideoWatch} asks for: WebRTC (a mediasoup-client consumer, signalled over the gateway
 * client, played as soon as decoded) and HLS (hls.js, loaded only when needed); and the frame
 * callback that reports every presented frame to the watch, reading the glass-to-glass stamp about
 * ten times a second. The element supplies its `<video>` and where frames go ({@link VideoView}).
 *
 * @module
 */
import { Topics } from '@telekit/core';
import type { StreamInfo } from '@telekit/core/schemas';
import type { GatewayClient } from '@telekit/gateway/client';
import { Device, type types } from 'mediasoup-client';
import { Subject } from 'rxjs';
import { StampReader } from './stamp-reader.js';
import type { VideoSession, VideoWatch } from './video-watch.js';

/** Where presented frames go. */
export interface FrameSink {
  /** The watch the frames are reported to; none: frames are no longer reported (the view detached). */
  watch(): VideoWatch | undefined;
  /** The server's clock minus this page's, ms (0 when unknown). */
  offset(): number;
  /** Whether a frame whose stamp was read had one. */
  stampSeen(found: boolean): void;
}

/** What a player needs of the view that shows it. */
export interface VideoView extends FrameSink {
  /** The view's `<video>`, once rendered. */
  video(): HTMLVideoElement | null;
  /** Empties the `<video>` (a session closed). */
  clearVideo(): void;
}

/** The WebRTC transport's ICE settings (read when the transport is made). */
export interface IceOptions {
  readonly iceServers: RTCIceServer[];
  readonly iceTransportPolicy: RTCIceTransportPolicy;
}

/** Where the HLS copy comes from (read when the player starts). */
export interface HlsSource {
  /** Sent as a bearer token with every request, when not empty. */
  readonly token: string;
  /** Put before the stream's HLS path (the gateway's URL when the page comes from elsewhere). */
  readonly hlsBase: string;
}

/** How often the viewer reads a frame's stamp (glass-to-glass), ms. */
const STAMP_EVERY_MS = 90;

/** Plays `stream` over WebRTC in the view's `<video>`. */
export async function webrtcPlayer(
  client: GatewayClient,
  stream: StreamInfo,
  view: VideoView,
  ice: IceOptions,
): Promise<VideoSession> {
  const video = view.video();
  if (!video) throw new Error('not rendered yet');
  const { rtpCapabilities } = await client.request(Topics.mediaJoin, { stream: stream.id });
  const device = new Device();
  await device.load({ routerRtpCapabilities: rtpCapabilities as types.RtpCapabilities });
  const params = await client.request(Topics.mediaTransport, {});
  const transport = device.createRecvTransport({
    ...(params as unknown as types.TransportOptions),
    ...(ice.iceServers.length ? { iceServers: ice.iceServers } : {}),
    iceTransportPolicy: ice.iceTransportPolicy,
  });
  const failed$ = new Subject<string>();
  transport.on('connect', ({ dtlsParameters }, ok, fail) => {
    client.request(Topics.mediaConnect, { transport: transport.id, dtlsParameters }).then(() => ok(), fail);
  });
  transport.on('connectionstatechange', (state) => {
    if (state === 'failed' || state === 'disconnected') failed$.next(`WebRTC ${state}`);
  });
  try {
    const info = await client.request(Topics.mediaConsume, {
      transport: transport.id,
      stream: stream.id,
      rtpCapabilities: device.rtpCapabilities,
    });
    const consumer = await transport.consume(info as unknown as types.ConsumerOptions);
    // Play each frame as soon as it is decoded: no extra delay for smoothness (a teleoperator
    // wants the latest picture). `jitterBufferTarget` is the standard name, `playoutDelayHint`
    // Chromium's older one.
    const receiver = consumer.rtpReceiver as
      | { jitterBufferTarget?: number | null; playoutDelayHint?: number | null }
      | undefined;
    if (receiver) {
      receiver.jitterBufferTarget = 0;
      receiver.playoutDelayHint = 0;
    }
    video.srcObject = new MediaStream([consumer.track]);
    await client.request(Topics.mediaResume, { consumer: consumer.id });
    const frames = presentFrames(video, view);
    return {
      mode: 'webrtc',
      consumer: consumer.id,
      firstFrame: frames.first,
      failed$,
      sample: async () => {
        let out: { bytes: number; jitterMs: number | null } | undefined;
        (await consumer.getStats()).forEach(
          (r: { type: string; bytesReceived?: number; jitter?: number }) => {
            if (r.type === 'inbound-rtp')
              out = {
                bytes: r.bytesReceived ?? 0,
                jitterMs: r.jitter === undefined ? null : r.jitter * 1000,
              };
          },
        );
        return out;
      },
      close: () => {
        frames.stop();
        failed$.complete();
        transport.close();
        view.clearVideo();
      },
    };
  } catch (error) {
    transport.close();
    throw error;
  }
}

/** Plays `stream`'s HLS copy in the view's `<video>` (hls.js). */
export async function hlsPlayer(
  stream: StreamInfo,
  view: VideoView,
  source: HlsSource,
): Promise<VideoSession> {
  const video = view.video();
  if (!video) throw new Error('not rendered yet');
  if (!stream.hls) throw new Error('the stream has no HLS copy');
  // hls.js (about a third of the widgets' code) is loaded only by a viewer that falls back to HLS.
  const { default: Hls } = await import('hls.js');
  if (!Hls.isSupported()) throw new Error('HLS: this browser has no Media Source Extensions');
  const token = source.token;
  const player = new Hls({
    lowLatencyMode: true,
    liveSyncDurationCount: 1,
    // The server starts encoding at the first request: the playlist appears a segment later.
    manifestLoadPolicy: {
      default: {
        maxTimeToFirstByteMs: 10_000,
        maxLoadTimeMs: 20_000,
        timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: 12, retryDelayMs: 500, maxRetryDelayMs: 1_000 },
      },
    },
    xhrSetup: (xhr) => {
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    },
  });
  let loaded = 0;
  player.on(Hls.Events.FRAG_LOADED, (_e, data) => {
    loaded += data.frag.stats.loaded;
  });
  const failed = new Promise<never>((_, reject) =>
    player.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) reject(new Error(`HLS: ${data.details}`));
    }),
  );
  failed.catch(() => undefined);
  player.loadSource(`${source.hlsBase}${stream.hls}`);
  player.attachMedia(video);
  const frames = presentFrames(video, view);
  return {
    mode: 'hls',
    firstFrame: Promise.race([frames.first, failed]),
    sample: async () => ({ bytes: loaded, jitterMs: null }),
    close: () => {
      frames.stop();
      player.destroy();
      view.clearVideo();
    },
  };
}

/**
 * Plays, reports every presented frame to the watch until `stop()`, and `first` resolves at the
 * first one (or fails after 10 s).
 */
export function presentFrames(
  video: HTMLVideoElement,
  sink: FrameSink,
): { first: Promise<void>; stop(): void } {
  const stamps = new StampReader();
  let active = true;
  let lastStamp = Number.NEGATIVE_INFINITY;
  const first = new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error('no picture within 10 s')), 10_000);
    const onFrame: VideoFrameRequestCallback = (now, meta) => {
      const watch = sink.watch();
      if (!watch || !active) return;
      clearTimeout(timeout);
      // The stamp is on the server's clock: the offset moves the display time onto it. Read about
      // ten times a second, not every frame: each read copies the picture's corner on the page's
      // main thread (about 2 ms a frame here, in software).
      const read = now - lastStamp >= STAMP_EVERY_MS;
      if (read) lastStamp = now;
      const g2g = read ? stamps.latency(video, now, meta, sink.offset()) : undefined;
      if (read) sink.stampSeen(g2g !== undefined);
      const m = meta as VideoFrameCallbackMetadata & {
        rtpTimestamp?: number;
        receiveTime?: number;
        processingDuration?: number;
      };
      watch.presented({
        now,
        ...(g2g !== undefined ? { glassToGlassMs: g2g } : {}),
        ...(m.rtpTimestamp !== undefined ? { rtpTimestamp: m.rtpTimestamp } : {}),
        ...(m.receiveTime !== undefined ? { receiveTime: m.receiveTime } : {}),
        ...(m.processingDuration !== undefined ? { processingDuration: m.processingDuration } : {}),
        presentationTime: m.presentationTime,
        expectedDisplayTime: m.expectedDisplayTime,
      });
      resolve();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    video.play().catch((error: Error) => {
      clearTimeout(timeout);
      reject(new Error(`cannot play: ${error.message}`));
    });
  });
  return {
    first,
    stop: () => {
      active = false;
    },
  };
}
