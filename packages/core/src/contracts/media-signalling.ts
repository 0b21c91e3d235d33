/**
 * Answers viewers' media signalling (`/media/*` requests: join, transport, connect, consume, resume,
 * keyframe). The gateway calls it with the authenticated client's id and relays the answer to that
 * client only; the media plugin provides it.
 */
export interface MediaSignalling {
  /** Answers one request; throws a `TelekitError` naming what is wrong (an unknown stream, say). */
  request(clientId: string, topic: string, body: unknown): Promise<unknown>;
  /** The client has gone: release what it held (transports, consumers). */
  release(clientId: string): void;
  /**
   * The directory holding a stream's HLS playlist (`index.m3u8`) and segments, if the stream has
   * one. `@telekit/media-nvenc`'s `hlsRoute()` serves it through a gateway route under
   * `/media/hls/<stream>/`.
   */
  hlsDirectory?(stream: string): string | undefined;
  /** The media plugin's own metrics in Prometheus text format; the gateway appends them to `/metrics`. */
  metrics?(): Promise<string>;
}
