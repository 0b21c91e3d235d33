import * as z from 'zod';
import { list, name } from './common.js';

/**
 * Media signalling (`/media/*`). Video itself travels over WebRTC (DTLS-SRTP) and never through these
 * messages; they only set it up. SFU-specific blobs (RTP capabilities and parameters, ICE and DTLS
 * parameters) are opaque objects here: the SFU validates them.
 */
const Opaque = z.record(z.string().max(128), z.unknown());

/** A stream the server offers, as listed in `/media/streams`. */
export const StreamInfo = z
  .object({
    id: name(),
    label: z.string().max(256),
    codec: z.enum(['h264', 'av1', 'vp8', 'vp9']),
    width: z.number().int().min(1).max(8192),
    height: z.number().int().min(1).max(8192),
    fps: z.number().min(0).max(240),
    hls: z.string().max(1024).optional(),
  })
  .meta({ id: 'StreamInfo' });
export type StreamInfo = z.infer<typeof StreamInfo>;

/**
 * Signalling is request and answer: a viewer sends a request body on a `/media/*` topic (through
 * the gateway client's `request`), and the media plugin answers that viewer only. The requests
 * carry no header: they are not streamed, and the gateway stamps who sent them.
 */

/** `/media/streams` answer: what the server offers. */
export const MediaStreams = z.object({ streams: list(StreamInfo) }).meta({ id: 'MediaStreams' });
export type MediaStreams = z.infer<typeof MediaStreams>;

/** `/media/join` request: a viewer asks to watch a stream. */
export const MediaJoin = z.object({ stream: name() }).meta({ id: 'MediaJoin' });
export type MediaJoin = z.infer<typeof MediaJoin>;

/** `/media/join` answer: the router's RTP capabilities, for the viewer's device. */
export const MediaJoined = z.object({ rtpCapabilities: Opaque }).meta({ id: 'MediaJoined' });
export type MediaJoined = z.infer<typeof MediaJoined>;

/** `/media/transport` answer: the server's receive transport for a viewer. */
export const MediaTransport = z
  .object({
    id: name(),
    iceParameters: Opaque,
    iceCandidates: z.array(Opaque).max(64),
    dtlsParameters: Opaque,
  })
  .meta({ id: 'MediaTransport' });
export type MediaTransport = z.infer<typeof MediaTransport>;

/** `/media/connect` request: the viewer's DTLS parameters for its transport. */
export const MediaConnect = z.object({ transport: name(), dtlsParameters: Opaque }).meta({
  id: 'MediaConnect',
});
export type MediaConnect = z.infer<typeof MediaConnect>;

/** `/media/consume` request: the viewer asks for a consumer of `stream` on `transport`. */
export const MediaConsume = z
  .object({ transport: name(), stream: name(), rtpCapabilities: Opaque })
  .meta({ id: 'MediaConsume' });
export type MediaConsume = z.infer<typeof MediaConsume>;

/** `/media/consume` answer: a paused consumer, for mediasoup-client's `transport.consume`. */
export const MediaConsumer = z
  .object({
    id: name(),
    producerId: name(),
    kind: z.enum(['video', 'audio']),
    rtpParameters: Opaque,
  })
  .meta({ id: 'MediaConsumer' });
export type MediaConsumer = z.infer<typeof MediaConsumer>;

/** `/media/resume` request: the viewer is ready; start sending. */
export const MediaResume = z.object({ consumer: name() }).meta({ id: 'MediaResume' });
export type MediaResume = z.infer<typeof MediaResume>;

/** A request with no fields (`/media/streams`, `/media/transport`, `/media/stats`). */
export const MediaEmpty = z.object({}).meta({ id: 'MediaEmpty' });
export type MediaEmpty = z.infer<typeof MediaEmpty>;

/** One stream's figures as the server measures them. */
export const StreamStats = z
  .object({
    stream: name(),
    /**
     * `idle` while nobody watches (neither rendered nor encoded), `starting` until the first
     * picture, `live`, `no-signal` when pictures stop.
     */
    state: z.enum(['idle', 'starting', 'live', 'no-signal']),
    fps: z.number().min(0),
    bitrateKbps: z.number().min(0),
    /** Encoder CPU time per frame, ms. */
    encodeMsPerFrame: z.number().min(0),
    keyframes: z.number().int().min(0),
    viewers: z.number().int().min(0),
    encoder: z.string().max(64),
    restarts: z.number().int().min(0),
    /** Ms since the SFU last received video; -1 if never. */
    lastVideoAgoMs: z.number().int().min(-1),
    /** Who holds the stream now (viewers, HLS clients, recorders…). */
    holders: z.number().int().min(0).optional(),
    /** Where its frames spent their time on the server (render, encode, SFU), over the last seconds. */
    budget: z
      .object({
        windowMs: z.number().min(0),
        stages: list(
          z.object({
            stage: z.enum(['render', 'encode', 'sfu']),
            p50: z.number(),
            p99: z.number(),
            count: z.number().int().min(0),
          }),
        ),
      })
      .optional(),
  })
  .meta({ id: 'StreamStats' });

/**
 * One frame's times on the server (ms, the server's clock), for a viewer to join with its own: an
 * entry of the `/media/stats` answer's `frames`. The source's times are absent until it reports them.
 */
export const ServerFrame = z
  .object({
    /** Its RTP timestamp: the key a viewer finds it by (`requestVideoFrameCallback`'s `rtpTimestamp`). */
    rtpTimestamp: z.number().int().min(0),
    capturedAt: z.number().optional(),
    readyAt: z.number().optional(),
    sentAt: z.number().optional(),
    /** Its last packet reached the SFU. */
    sfuInAt: z.number().optional(),
    /** Its last packet left the SFU for this viewer. */
    sfuOutAt: z.number(),
  })
  .meta({ id: 'ServerFrame' });
export type ServerFrame = z.infer<typeof ServerFrame>;
export type StreamStats = z.infer<typeof StreamStats>;

/** One viewer's figures from the SFU (RTT and loss from the viewer's receiver reports). */
export const ViewerStats = z
  .object({
    consumer: name(),
    stream: name(),
    rttMs: z.number().min(0).optional(),
    fractionLost: z.number().min(0).max(1),
    packetsLost: z.number().int(),
    nacks: z.number().int().min(0),
    keyframeRequests: z.number().int().min(0),
    bitrateKbps: z.number().min(0),
  })
  .meta({ id: 'ViewerStats' });
export type ViewerStats = z.infer<typeof ViewerStats>;

/**
 * `/media/stats`: every stream's figures, the asking client's own viewer figures, and its recent
 * frames' server times (for its video latency budget).
 */
export const MediaStats = z
  .object({
    streams: list(StreamStats),
    viewers: list(ViewerStats),
    frames: list(
      z.object({ consumer: name(), stream: name(), frames: z.array(ServerFrame).max(1024) }),
    ).optional(),
  })
  .meta({ id: 'MediaStats' });
export type MediaStats = z.infer<typeof MediaStats>;
