import * as z from 'zod';
import { list, message, name } from './common.js';

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

/** `/media/streams`: what the server offers. */
export const MediaStreams = message({ streams: list(StreamInfo) }).meta({ id: 'MediaStreams' });
export type MediaStreams = z.infer<typeof MediaStreams>;

/** `/media/join`: a viewer asks to watch a stream; the answer carries the router's capabilities. */
export const MediaJoin = message({ stream: name() }).meta({ id: 'MediaJoin' });
export type MediaJoin = z.infer<typeof MediaJoin>;

/** `/media/transport`: the server's receive transport for a viewer. */
export const MediaTransport = message({
  id: name(),
  iceParameters: Opaque,
  iceCandidates: z.array(Opaque).max(64),
  dtlsParameters: Opaque,
}).meta({ id: 'MediaTransport' });
export type MediaTransport = z.infer<typeof MediaTransport>;

/** `/media/connect`: the viewer's DTLS parameters for its transport. */
export const MediaConnect = message({ transport: name(), dtlsParameters: Opaque }).meta({
  id: 'MediaConnect',
});
export type MediaConnect = z.infer<typeof MediaConnect>;

/** `/media/consume`: the viewer asks for a consumer of `stream` on `transport`. */
export const MediaConsume = message({
  transport: name(),
  stream: name(),
  rtpCapabilities: Opaque,
}).meta({ id: 'MediaConsume' });
export type MediaConsume = z.infer<typeof MediaConsume>;

/** `/media/consumer`: the server's answer to `/media/consume`. */
export const MediaConsumer = message({
  id: name(),
  producer: name(),
  kind: z.enum(['video', 'audio']),
  rtpParameters: Opaque,
}).meta({ id: 'MediaConsumer' });
export type MediaConsumer = z.infer<typeof MediaConsumer>;

/** `/media/keyframe`: ask the encoder for a keyframe (a viewer joined or lost packets). */
export const MediaKeyframe = message({ stream: name() }).meta({ id: 'MediaKeyframe' });
export type MediaKeyframe = z.infer<typeof MediaKeyframe>;

/** `/media/stats`: a stream's figures as the server measures them. */
export const MediaStats = message({
  stream: name(),
  fps: z.number().min(0),
  bitrate: z.number().min(0),
  viewers: z.number().int().min(0),
  encoder: z.string().max(64),
}).meta({ id: 'MediaStats' });
export type MediaStats = z.infer<typeof MediaStats>;
