import type { MediaConsumer, MediaStats, MediaStreams, MediaTransport, StreamInfo } from '@telekit/core';
import type { GatewayClient } from '@telekit/gateway/client';
import Hls from 'hls.js';
import { css, html } from 'lit';
import { Device, type types } from 'mediasoup-client';
import { TelekitWidget } from './base.js';
import { StampReader } from './stamp-reader.js';
import { theme } from './theme.js';

/** What the viewer measures, as `stats` returns it and the overlay shows it. */
export interface CameraViewerStats {
  mode: 'webrtc' | 'hls' | 'none';
  /** `starting`, `playing`, `no-signal` (the server has no pictures), `unavailable` (video could not start). */
  state: 'starting' | 'playing' | 'no-signal' | 'unavailable';
  frames: number;
  fps: number;
  bitrateKbps: number;
  /** Source → display of the last 300 stamped frames, ms: the median, or null before any. */
  glassToGlassP50: number | null;
  /** Jitter the browser measured on the RTP stream, ms (WebRTC only). */
  jitterMs: number | null;
  error?: string;
}

interface Session {
  mode: 'webrtc' | 'hls';
  bytes(): Promise<{ bytes: number; jitterMs: number | null } | undefined>;
  close(): void;
}

const median = (values: readonly number[]) => {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/**
 * `<telekit-camera-viewer>`: a stream from the media plugin. WebRTC through mediasoup-client with
 * signalling over the gateway client; the HLS copy (hls.js) where WebRTC does not come up. The
 * overlay shows fps, bitrate and glass-to-glass latency (read from the stamp the source draws into
 * each frame, corrected by the gateway's clock offset), and says so when there is no signal or video
 * cannot start; it retries by itself.
 *
 * Attributes: `stream` (default: the first the server offers), `mode` (`auto` — WebRTC, then HLS —,
 * `webrtc` or `hls`), `token` (sent with HLS requests when the gateway checks tokens), `hls-base`
 * (the gateway's URL when the page comes from elsewhere), `no-overlay`.
 * Events: `telekit-video-state` (`detail`: {@link CameraViewerStats}) when the state changes.
 */
export class TelekitCameraViewer extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    stream: { type: String },
    mode: { type: String },
    token: { type: String },
    hlsBase: { type: String, attribute: 'hls-base' },
    noOverlay: { type: Boolean, attribute: 'no-overlay' },
    _stats: { state: true },
  };
  declare stream: string;
  declare mode: 'auto' | 'webrtc' | 'hls';
  declare token: string;
  declare hlsBase: string;
  declare noOverlay: boolean;
  declare _stats: CameraViewerStats;
  #session: Session | undefined;
  #latencies: number[] = [];
  #frameTimes: number[] = [];
  #lastBytes: { at: number; bytes: number } | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #retry: ReturnType<typeof setTimeout> | undefined;
  #generation = 0;
  #lastFrameAt = 0;
  #serverState: StreamStatsState = 'starting';

  static override styles = [
    theme,
    css`
      :host {
        display: block;
        position: relative;
        background: black;
        border-radius: var(--_radius);
        overflow: hidden;
        aspect-ratio: 4 / 3;
      }
      video {
        width: 100%;
        height: 100%;
        object-fit: contain;
        display: block;
      }
      .overlay {
        position: absolute;
        left: 0.5em;
        bottom: 0.5em;
        padding: 0.2em 0.6em;
        border-radius: var(--_radius);
        background: rgb(0 0 0 / 0.6);
        font-variant-numeric: tabular-nums;
        font-size: 0.85em;
      }
      .status {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        text-align: center;
        padding: 1em;
        background: rgb(0 0 0 / 0.55);
        font-size: 1.1em;
      }
    `,
  ];

  constructor() {
    super();
    this.stream = '';
    this.mode = 'auto';
    this.token = '';
    this.hlsBase = '';
    this.noOverlay = false;
    this._stats = {
      mode: 'none',
      state: 'starting',
      frames: 0,
      fps: 0,
      bitrateKbps: 0,
      glassToGlassP50: null,
      jitterMs: null,
    };
  }

  /** What the viewer has measured so far. */
  get stats(): CameraViewerStats {
    return { ...this._stats, glassToGlassP50: median(this.#latencies) };
  }

  get #video(): HTMLVideoElement | null {
    return this.renderRoot.querySelector('video');
  }

  #set(patch: Partial<CameraViewerStats>): void {
    const before = this._stats.state;
    this._stats = { ...this._stats, ...patch };
    if (patch.state && patch.state !== before) this.emit('telekit-video-state', this.stats);
  }

  protected override attach(client: GatewayClient) {
    this.#timers.push(setInterval(() => void this.#sample(), 1_000));
    let up = false;
    return [
      client.state$.subscribe((s) => {
        const nowUp = s.status === 'connected';
        if (nowUp && !up) this.#restart(0);
        if (!nowUp && up) {
          this.#stop();
          this.#set({ state: 'unavailable', error: `gateway ${s.status}${s.reason ? `: ${s.reason}` : ''}` });
        }
        up = nowUp;
      }),
    ];
  }

  protected override detach(): void {
    this.#stop();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  #stop(): void {
    this.#generation++;
    clearTimeout(this.#retry);
    this.#session?.close();
    this.#session = undefined;
    const video = this.#video;
    if (video) {
      video.srcObject = null;
      video.removeAttribute('src');
    }
  }

  #restart(delayMs: number): void {
    this.#stop();
    const generation = this.#generation;
    this.#retry = setTimeout(() => void this.#start(generation), delayMs);
  }

  async #start(generation: number): Promise<void> {
    const client = this.client;
    const video = this.#video;
    if (!client || !video) return;
    this.#set({ state: 'starting', error: undefined });
    let stream: StreamInfo | undefined;
    const errors: string[] = [];
    try {
      const { streams } = await client.request<MediaStreams>('/media/streams', {});
      stream = this.stream ? streams.find((s) => s.id === this.stream) : streams[0];
      if (!stream)
        throw new Error(this.stream ? `no stream named ${this.stream}` : 'the server offers no streams');
      if (this.mode !== 'hls') {
        try {
          this.#session = await this.#webrtc(client, stream, video, generation);
          return;
        } catch (error) {
          errors.push(`WebRTC: ${(error as Error).message}`);
          if (this.mode === 'webrtc') throw error;
        }
      }
      if (!stream.hls) throw new Error('the stream has no HLS copy');
      this.#session = await this.#hls(stream.hls, video, generation);
    } catch (error) {
      if (generation !== this.#generation) return;
      const message = [...new Set([...errors, (error as Error).message])].join('; ');
      this.#set({ state: 'unavailable', mode: 'none', error: message });
      this.#restart(3_000);
    }
  }

  async #webrtc(
    client: GatewayClient,
    stream: StreamInfo,
    video: HTMLVideoElement,
    generation: number,
  ): Promise<Session> {
    const { rtpCapabilities } = await client.request<{ rtpCapabilities: types.RtpCapabilities }>(
      '/media/join',
      {
        stream: stream.id,
      },
    );
    const device = new Device();
    await device.load({ routerRtpCapabilities: rtpCapabilities });
    const params = await client.request<MediaTransport>('/media/transport', {});
    const transport = device.createRecvTransport(params as unknown as types.TransportOptions);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      client.request('/media/connect', { transport: transport.id, dtlsParameters }).then(() => ok(), fail);
    });
    transport.on('connectionstatechange', (state) => {
      if ((state === 'failed' || state === 'disconnected') && generation === this.#generation) {
        this.#set({ state: 'unavailable', error: `WebRTC ${state}; reconnecting` });
        this.#restart(1_000);
      }
    });
    const info = await client.request<MediaConsumer>('/media/consume', {
      transport: transport.id,
      stream: stream.id,
      rtpCapabilities: device.rtpCapabilities,
    });
    const consumer = await transport.consume(info as unknown as types.ConsumerOptions);
    video.srcObject = new MediaStream([consumer.track]);
    await client.request('/media/resume', { consumer: consumer.id });
    await this.#firstFrame(video, generation, 'webrtc');
    return {
      mode: 'webrtc',
      bytes: async () => {
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
      close: () => transport.close(),
    };
  }

  async #hls(path: string, video: HTMLVideoElement, generation: number): Promise<Session> {
    if (!Hls.isSupported()) throw new Error('HLS: this browser has no Media Source Extensions');
    const token = this.token;
    const player = new Hls({
      lowLatencyMode: true,
      liveSyncDurationCount: 1,
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
    player.loadSource(`${this.hlsBase}${path}`);
    player.attachMedia(video);
    try {
      await Promise.race([this.#firstFrame(video, generation, 'hls'), failed]);
    } catch (error) {
      player.destroy();
      throw error;
    }
    return {
      mode: 'hls',
      bytes: async () => ({ bytes: loaded, jitterMs: null }),
      close: () => player.destroy(),
    };
  }

  /** Plays, starts reading frames, and resolves at the first one (or fails after 10 s). */
  #firstFrame(video: HTMLVideoElement, generation: number, mode: 'webrtc' | 'hls'): Promise<void> {
    const stamps = new StampReader();
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('no picture within 10 s')), 10_000);
      const onFrame: VideoFrameRequestCallback = (now, meta) => {
        if (generation !== this.#generation) return;
        clearTimeout(timeout);
        const t = performance.now();
        this.#lastFrameAt = t;
        this.#frameTimes.push(t);
        while (this.#frameTimes.length && t - this.#frameTimes[0]! > 1_000) this.#frameTimes.shift();
        // The stamp is on the server's clock: the offset moves the display time onto it.
        const latency = stamps.latency(video, now, meta, this.client?.estimate?.offset ?? 0);
        if (latency !== undefined) {
          this.#latencies.push(latency);
          if (this.#latencies.length > 300) this.#latencies.shift();
        }
        this.#set({
          mode,
          frames: this._stats.frames + 1,
          ...(this._stats.state !== 'playing' && this.#serverState !== 'no-signal'
            ? { state: 'playing' as const }
            : {}),
          error: undefined,
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
  }

  /** Once a second: fps, bitrate, jitter, and the server's word on the stream (no signal?). */
  async #sample(): Promise<void> {
    const session = this.#session;
    const now = performance.now();
    const fps = this.#frameTimes.filter((t) => now - t <= 1_000).length;
    let bitrateKbps = this._stats.bitrateKbps;
    let jitterMs = this._stats.jitterMs;
    const b = await session?.bytes().catch(() => undefined);
    if (b) {
      if (this.#lastBytes && b.bytes >= this.#lastBytes.bytes)
        bitrateKbps = ((b.bytes - this.#lastBytes.bytes) * 8) / (now - this.#lastBytes.at);
      this.#lastBytes = { at: now, bytes: b.bytes };
      jitterMs = b.jitterMs;
    }
    if (this.client && session) {
      const stats = await this.client.request<MediaStats>('/media/stats', {}).catch(() => undefined);
      const mine = stats?.streams.find((s) => s.stream === (this.stream || stats.streams[0]?.stream));
      if (mine) this.#serverState = mine.state;
    }
    const stale = this.#lastFrameAt > 0 && now - this.#lastFrameAt > 2_000;
    const state = !session
      ? this._stats.state
      : this.#serverState === 'no-signal' || stale
        ? 'no-signal'
        : 'playing';
    this.#set({ fps, bitrateKbps: Math.round(bitrateKbps), jitterMs, state });
  }

  override render() {
    const s = this.stats;
    const status =
      s.state === 'no-signal'
        ? 'no signal'
        : s.state === 'unavailable'
          ? `video unavailable${s.error ? `: ${s.error}` : ''} — retrying`
          : s.state === 'starting'
            ? 'connecting video…'
            : '';
    return html`
      <video muted playsinline autoplay aria-label="camera ${this.stream}"></video>
      ${status ? html`<div class="status" role="status" data-field="status">${status}</div>` : ''}
      ${
        this.noOverlay
          ? ''
          : html`<div class="overlay" data-field="overlay">
            ${s.mode === 'none' ? '—' : s.mode.toUpperCase()} · ${s.fps} fps · ${s.bitrateKbps} kbit/s ·
            glass-to-glass ${s.glassToGlassP50 === null ? '—' : `${Math.round(s.glassToGlassP50)} ms`}
          </div>`
      }
    `;
  }
}

type StreamStatsState = MediaStats['streams'][number]['state'];
