import { stampRegion } from '@telekit/core/media';
import type { GatewayClient } from '@telekit/gateway/client';
import { css, html } from 'lit';
import { BehaviorSubject, type Observable } from 'rxjs';
import { defineElement, TelekitWidget } from './base.js';
import { cropStamp } from './stamp-reader.js';
import { theme } from './theme.js';
import { hlsPlayer, type VideoView, webrtcPlayer } from './video-players.js';
import { type VideoBudget, type VideoStats, VideoWatch } from './video-watch.js';

/** What the viewer measures, as `stats` returns it and the overlay shows it. */
export interface CameraViewerStats {
  mode: 'webrtc' | 'hls' | 'none';
  /**
   * `idle` (paused, or not on a page with a client), `starting`, `playing`, `no-signal` (the server
   * has no pictures), `unavailable` (video could not start).
   */
  state: 'idle' | 'starting' | 'playing' | 'no-signal' | 'unavailable';
  frames: number;
  fps: number;
  bitrateKbps: number;
  /** Source → display over the last seconds, ms: the median, or null before any. */
  glassToGlassP50: number | null;
  /** Jitter the browser measured on the RTP stream, ms (WebRTC only). */
  jitterMs: number | null;
  /** From opening the video to its first frame on screen, ms (null before one). */
  firstFrameMs?: number | null;
  /** Each stage of the frames' trip, p50/p99 over the last seconds (see `VideoWatch`). */
  budget?: VideoBudget;
  error?: string;
}

const toViewerStats = (s: VideoStats): CameraViewerStats => ({
  mode: s.mode,
  state: s.state,
  frames: s.frames,
  fps: s.fps,
  bitrateKbps: s.bitrateKbps,
  glassToGlassP50: s.budget.glassToGlass?.p50 ?? null,
  jitterMs: s.jitterMs,
  firstFrameMs: s.firstFrameMs,
  budget: s.budget,
  ...(s.error ? { error: s.error } : {}),
});

/**
 * `<telekit-camera-viewer>`: a stream from the media plugin. WebRTC through mediasoup-client with
 * signalling over the gateway client; the HLS copy (hls.js) where WebRTC does not come up. The
 * overlay shows fps, bitrate and glass-to-glass latency (read from the stamp the source draws into
 * each frame, corrected by the gateway's clock offset), and says so when there is no signal or video
 * cannot start; it retries by itself. The watch itself is {@link VideoWatch} (headless); this
 * element plays the stream in its `<video>` (with the players of `video-players.ts`) and reports
 * each presented frame to it.
 *
 * The server encodes a stream only while someone watches: the element holds the stream while it
 * is on the page with a client and not `paused`; removing it (or pausing it) lets the server stop
 * encoding once nobody else watches.
 *
 * The stamp is read from each frame but cropped off the picture shown (its rows along the top),
 * unless `show-stamp` is set (debug); a stream without stamps is shown whole once the viewer has
 * seen none for a couple of seconds.
 *
 * Attributes: `stream` (default: the first the server offers), `mode` (`auto` — WebRTC, then HLS —,
 * `webrtc` or `hls`), `token` (sent with HLS requests when the gateway checks tokens), `hls-base`
 * (the gateway's URL when the page comes from elsewhere), `ice-transport-policy` (`relay`: through TURN
 * only), `paused`, `no-overlay`, `show-stamp`; the `iceServers` property for STUN/TURN servers.
 * Events: `telekit-video-state` (`detail`: {@link CameraViewerStats}) when the state changes.
 * `videoStats$` emits the full figures ({@link VideoStats}: the latency budget stage by stage).
 */
export class TelekitCameraViewer extends TelekitWidget {
  static override properties = {
    ...TelekitWidget.properties,
    stream: { type: String },
    mode: { type: String },
    token: { type: String },
    hlsBase: { type: String, attribute: 'hls-base' },
    iceTransportPolicy: { type: String, attribute: 'ice-transport-policy' },
    noOverlay: { type: Boolean, attribute: 'no-overlay' },
    showStamp: { type: Boolean, attribute: 'show-stamp' },
    paused: { type: Boolean, reflect: true },
    _stats: { state: true },
  };
  declare stream: string;
  declare mode: 'auto' | 'webrtc' | 'hls';
  declare token: string;
  declare hlsBase: string;
  /**
   * STUN/TURN servers for the WebRTC transport (a property, not an attribute: TURN credentials are
   * usually minted per user). Needed by viewers whose network lets no UDP out to the server.
   */
  iceServers: RTCIceServer[] = [];
  /** `all` (default) or `relay`: only through the TURN servers of `iceServers`. */
  declare iceTransportPolicy: RTCIceTransportPolicy;
  declare noOverlay: boolean;
  /**
   * Debug: show the glass-to-glass stamp (the bar of blocks the source draws along the picture's
   * top). By default the viewer still reads it but crops it off the picture the operator sees.
   */
  declare showStamp: boolean;
  /** Not watching: the element holds no stream (the server may stop encoding it). */
  declare paused: boolean;
  /** What the element shows (re-rendered when it changes). */
  declare _stats: VideoStats;
  /** The latest figures, every frame's. */
  #latest: VideoStats = idleStats();
  #watch: VideoWatch | undefined;
  #up = false;
  readonly #videoStats = new BehaviorSubject<VideoStats>(idleStats());
  /** Whether the stream carries stamps: unknown (cropped, as Telekit's sources stamp) until read. */
  #stamped: boolean | undefined;
  #resize: ResizeObserver | undefined;
  /** What the players (`video-players.ts`) need of this element. */
  readonly #view: VideoView = {
    video: () => this.#video,
    clearVideo: () => this.#clearVideo(),
    watch: () => this.#watch,
    offset: () => this.client?.estimate?.offset ?? 0,
    stampSeen: (found) => this.#stampSeen(found),
  };

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
      video.cropped {
        position: absolute;
        object-fit: fill;
      }
      .overlay {
        color: #fff;
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
        background: rgb(0 0 0 / 0.6);
        color: #fff;
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
    this.iceTransportPolicy = 'all';
    this.noOverlay = false;
    this.showStamp = false;
    this.paused = false;
    this._stats = idleStats();
  }

  /** What the viewer has measured so far. */
  get stats(): CameraViewerStats {
    return toViewerStats(this.#latest);
  }

  /** Everything the viewer measures, the latency budget stage by stage; the latest first. */
  get videoStats$(): Observable<VideoStats> {
    return this.#videoStats.asObservable();
  }

  get #video(): HTMLVideoElement | null {
    return this.renderRoot.querySelector('video');
  }

  protected override attach(client: GatewayClient) {
    const watch = new VideoWatch({
      client,
      players: {
        webrtc: (stream) => webrtcPlayer(client, stream, this.#view, this),
        hls: (stream) => hlsPlayer(stream, this.#view, this),
      },
      ...(this.stream ? { stream: this.stream } : {}),
      mode: this.mode,
    });
    this.#watch = watch;
    const stats = watch.stats$.subscribe((s) => {
      const before = this.#latest.state;
      this.#latest = s;
      this.#videoStats.next(s);
      // The figures change with every frame; the element re-renders only when what it shows does
      // (a busy page's main thread has better things to do 30 times a second).
      if (shown(s) !== shown(this._stats)) this._stats = s;
      if (s.state !== before) this.emit('telekit-video-state', toViewerStats(s));
    });
    this.#up = false;
    const state = client.state$.subscribe((st) => {
      const nowUp = st.status === 'connected';
      if (nowUp && !this.#up && !this.paused) watch.start();
      if (!nowUp && this.#up) {
        watch.stop();
        this.#latest = {
          ...this.#latest,
          state: 'unavailable',
          error: `gateway ${st.status}${st.reason ? `: ${st.reason}` : ''}`,
        };
        this._stats = this.#latest;
      }
      this.#up = nowUp;
    });
    return [stats, state];
  }

  protected override detach(): void {
    this.#watch?.close();
    this.#watch = undefined;
    this.#clearVideo();
  }

  protected override firstUpdated(): void {
    this.#video?.addEventListener('resize', () => this.#fit());
    this.#observeSize();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Back on the page after leaving it: watch its size again.
    if (this.hasUpdated) this.#observeSize();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize?.disconnect();
    this.#resize = undefined;
  }

  #observeSize(): void {
    if (this.#resize) return;
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this);
  }

  /** Rows of the picture that hold the stamp (with a margin for the codec's smear), or 0. */
  #stampRows(): number {
    const video = this.#video;
    if (this.showStamp || this.#stamped === false || !video?.videoWidth) return 0;
    return Math.ceil(stampRegion(video.videoWidth).height * 1.25);
  }

  /**
   * Places the picture as `object-fit: contain` would, but without its stamp rows: the video is
   * drawn whole, shifted up so that those rows fall outside its clip (cropped, not covered: the
   * picture below keeps its aspect, and the letterbox stays empty).
   */
  #fit(): void {
    const video = this.#video;
    if (!video) return;
    const crop = cropStamp(
      { width: this.clientWidth, height: this.clientHeight },
      { width: video.videoWidth, height: video.videoHeight },
      this.#stampRows(),
    );
    if (!crop) {
      video.classList.remove('cropped');
      video.removeAttribute('style');
      return;
    }
    video.classList.add('cropped');
    video.style.cssText = `left:${crop.left}px;top:${crop.top}px;width:${crop.width}px;height:${crop.height}px;clip-path:inset(${crop.clipTop}px 0 0 0)`;
  }

  /** What the reader found in a frame: the stream has stamps, or (after many misses) has none. */
  #stampSeen(found: boolean): void {
    if (found) this.#misses = 0;
    else this.#misses++;
    const stamped = found ? true : this.#misses >= 20 && this.#stamped !== true ? false : this.#stamped;
    if (stamped === this.#stamped) return;
    this.#stamped = stamped;
    this.#fit();
  }
  #misses = 0;

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (changed.has('showStamp')) this.#fit();
    if (!changed.has('paused') || !this.#watch) return;
    if (this.paused) {
      this.#watch.stop();
      this.#clearVideo();
    } else if (this.#up) this.#watch.start();
  }

  #clearVideo(): void {
    const video = this.#video;
    if (video) {
      video.srcObject = null;
      video.removeAttribute('src');
    }
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
            : s.state === 'idle'
              ? this.paused
                ? 'video paused'
                : ''
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

/** What the element shows of the figures: it re-renders when this changes. */
const shown = (s: VideoStats) =>
  `${s.state}|${s.mode}|${s.fps}|${s.bitrateKbps}|${Math.round(s.budget.glassToGlass?.p50 ?? -1)}|${s.error ?? ''}`;

function idleStats(): VideoStats {
  return {
    mode: 'none',
    state: 'idle',
    frames: 0,
    fps: 0,
    bitrateKbps: 0,
    jitterMs: null,
    firstFrameMs: null,
    budget: { windowMs: 5_000, stages: [], glassToGlass: null },
  };
}

defineElement('telekit-camera-viewer', TelekitCameraViewer);

declare global {
  interface HTMLElementTagNameMap {
    'telekit-camera-viewer': TelekitCameraViewer;
  }
}
