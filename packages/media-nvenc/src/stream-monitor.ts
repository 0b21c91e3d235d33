import type { types } from 'mediasoup';
import { Counter, Gauge, Registry } from 'prom-client';
import type { EncoderStats, EncoderStatus } from './supervised-encoder.js';

/** Whether a stream is delivering pictures. */
export type SignalState = 'starting' | 'live' | 'no-signal';

/** One stream's figures, as `/media/stats` reports them and `/metrics` exports them. */
export interface StreamStats {
  readonly stream: string;
  readonly state: SignalState;
  /** Encoded frames per second. */
  readonly fps: number;
  /** Bitrate arriving at the SFU from the encoder, kbit/s. */
  readonly bitrateKbps: number;
  /** Encoder CPU time per frame, ms. */
  readonly encodeMsPerFrame: number;
  /** Keyframes the SFU has received since the stream started. */
  readonly keyframes: number;
  readonly viewers: number;
  readonly encoder: string;
  readonly restarts: number;
  /** Ms since the SFU last received video, or -1 if it never has. */
  readonly lastVideoAgoMs: number;
}

/** One viewer's figures from mediasoup (its receiver reports). */
export interface ViewerStats {
  readonly consumer: string;
  readonly stream: string;
  /** Round trip between the SFU and the viewer, ms (once the viewer has sent a receiver report). */
  readonly rttMs?: number;
  /** Fraction of packets lost on the way to the viewer, 0–1, from the last receiver report. */
  readonly fractionLost: number;
  readonly packetsLost: number;
  readonly nacks: number;
  readonly keyframeRequests: number;
  readonly bitrateKbps: number;
}

/** What a monitored stream is made of. */
export interface MonitoredStream {
  readonly id: string;
  readonly producer: types.Producer;
  readonly encoder: () => { status: EncoderStatus; stats: EncoderStats };
  readonly viewers: () => number;
}

/** Options of {@link StreamMonitor}. */
export interface StreamMonitorOptions {
  /** No video for this long → `no-signal`. Default 2000 ms. */
  noSignalMs?: number;
  /** How often to sample mediasoup's stats. Default 1000 ms. */
  intervalMs?: number;
  /** The consumers to report per-viewer figures for. */
  consumers?: () => { id: string; stream: string; consumer: types.Consumer }[];
  /** Called when a stream's signal state changes. */
  onState?: (stream: string, state: SignalState) => void;
}

/**
 * Samples every stream's producer (bitrate, bytes, keyframes) and encoder (fps, CPU per frame)
 * once a second, decides whether each stream has signal, and exports it all as Prometheus metrics
 * in its own registry (the gateway appends them to `/metrics`).
 */
export class StreamMonitor {
  readonly registry = new Registry();
  readonly #streams = new Map<string, MonitoredStream>();
  readonly #state = new Map<
    string,
    { state: SignalState; bytes: number; lastVideoAt: number; keyframes: number; bitrate: number }
  >();
  readonly #viewers = new Map<string, ViewerStats>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #options: StreamMonitorOptions;
  readonly #g = {
    fps: this.#gauge('telekit_media_fps', 'Encoded frames per second, by stream'),
    bitrate: this.#gauge(
      'telekit_media_bitrate_kbps',
      'Bitrate from the encoder into the SFU, kbit/s, by stream',
    ),
    encodeMs: this.#gauge(
      'telekit_media_encode_cpu_ms_per_frame',
      'Encoder CPU time per frame, ms, by stream',
    ),
    viewers: this.#gauge('telekit_media_viewers', 'Viewers, by stream'),
    signal: this.#gauge('telekit_media_signal', '1 while a stream delivers video, 0 with no signal'),
    restarts: this.#gauge('telekit_media_encoder_restarts', 'Encoder restarts since start, by stream'),
    // Per stream, never per viewer: a viewer's consumer or transport id is a handle into the SFU and
    // stays out of /metrics (so do addresses and tokens). A viewer sees its own figures on /media/stats.
    rttMax: this.#gauge(
      'telekit_media_viewer_rtt_max_ms',
      'Round trip SFU ↔ viewer, ms, of the slowest viewer of a stream (0 with no report yet)',
    ),
    lostMax: this.#gauge(
      'telekit_media_viewer_fraction_lost_max',
      'Fraction of packets lost (last receiver report) to the viewer of a stream that lost most',
    ),
  };
  readonly #keyframes = new Counter({
    name: 'telekit_media_keyframes_total',
    help: 'Keyframes received by the SFU, by stream',
    labelNames: ['stream'],
    registers: [this.registry],
  });

  constructor(options: StreamMonitorOptions = {}) {
    this.#options = options;
    this.#timer = setInterval(
      () => void this.sample().catch(() => undefined), // a closed worker: the next sample tries again
      options.intervalMs ?? 1_000,
    );
    this.#timer.unref?.();
  }

  #gauge(name: string, help: string): Gauge<'stream'> {
    return new Gauge({ name, help, labelNames: ['stream'], registers: [this.registry] });
  }

  /** Starts watching a stream. */
  add(stream: MonitoredStream): void {
    this.#streams.set(stream.id, stream);
    const entry = { state: 'starting' as SignalState, bytes: 0, lastVideoAt: 0, keyframes: 0, bitrate: 0 };
    this.#state.set(stream.id, entry);
    stream.producer.on('trace', (trace) => {
      if (trace.type !== 'keyframe') return;
      entry.keyframes++;
      this.#keyframes.inc({ stream: stream.id });
    });
  }

  /** Samples now (the timer does it every second). */
  async sample(): Promise<void> {
    const now = Date.now();
    for (const [id, stream] of this.#streams) {
      const entry = this.#state.get(id)!;
      if (stream.producer.closed) continue;
      const stat = (await stream.producer.getStats().catch(() => []))[0];
      const bytes = stat?.byteCount ?? 0;
      if (bytes > entry.bytes) entry.lastVideoAt = now;
      entry.bytes = bytes;
      entry.bitrate = (stat?.bitrate ?? 0) / 1000;
      const noSignalMs = this.#options.noSignalMs ?? 2_000;
      const next: SignalState =
        entry.lastVideoAt === 0
          ? entry.state === 'starting'
            ? 'starting'
            : 'no-signal'
          : now - entry.lastVideoAt > noSignalMs
            ? 'no-signal'
            : 'live';
      if (next !== entry.state) {
        entry.state = next;
        this.#options.onState?.(id, next);
      }
      const s = this.stream(id)!;
      this.#g.fps.set({ stream: id }, s.fps);
      this.#g.bitrate.set({ stream: id }, s.bitrateKbps);
      this.#g.encodeMs.set({ stream: id }, s.encodeMsPerFrame);
      this.#g.viewers.set({ stream: id }, s.viewers);
      this.#g.signal.set({ stream: id }, s.state === 'live' ? 1 : 0);
      this.#g.restarts.set({ stream: id }, s.restarts);
    }
    const seen = new Set<string>();
    const worst = new Map<string, { rtt: number; lost: number }>();
    for (const { id, stream, consumer } of this.#options.consumers?.() ?? []) {
      const stat = (await consumer.getStats().catch(() => [])).find((x) => x.type === 'outbound-rtp') as
        | types.ConsumerStat
        | undefined;
      if (!stat) continue;
      seen.add(id);
      const v: ViewerStats = {
        consumer: id,
        stream,
        ...(stat.roundTripTime !== undefined ? { rttMs: stat.roundTripTime } : {}),
        fractionLost: stat.fractionLost / 256,
        packetsLost: stat.packetsLost,
        nacks: stat.nackCount,
        keyframeRequests: stat.pliCount + stat.firCount,
        bitrateKbps: stat.bitrate / 1000,
      };
      this.#viewers.set(id, v);
      const w = worst.get(stream) ?? { rtt: 0, lost: 0 };
      worst.set(stream, { rtt: Math.max(w.rtt, v.rttMs ?? 0), lost: Math.max(w.lost, v.fractionLost) });
    }
    for (const id of this.#viewers.keys()) if (!seen.has(id)) this.#viewers.delete(id);
    for (const id of this.#streams.keys()) {
      const w = worst.get(id) ?? { rtt: 0, lost: 0 };
      this.#g.rttMax.set({ stream: id }, w.rtt);
      this.#g.lostMax.set({ stream: id }, w.lost);
    }
  }

  /** A stream's figures as of the last sample. */
  stream(id: string): StreamStats | undefined {
    const stream = this.#streams.get(id);
    const entry = this.#state.get(id);
    if (!stream || !entry) return undefined;
    const { status, stats } = stream.encoder();
    const live = entry.state === 'live';
    return {
      stream: id,
      state: entry.state,
      fps: live ? Math.round(stats.fps * 10) / 10 : 0,
      bitrateKbps: live ? Math.round(entry.bitrate) : 0,
      encodeMsPerFrame: Math.round(stats.cpuMsPerFrame * 100) / 100,
      keyframes: entry.keyframes,
      viewers: stream.viewers(),
      encoder: status.encoder,
      restarts: status.restarts,
      lastVideoAgoMs: entry.lastVideoAt ? Date.now() - entry.lastVideoAt : -1,
    };
  }

  /** Every stream's figures. */
  streams(): StreamStats[] {
    return [...this.#streams.keys()].map((id) => this.stream(id)!);
  }

  /** Per-viewer figures; only `consumers` when given. */
  viewers(consumers?: ReadonlySet<string>): ViewerStats[] {
    return [...this.#viewers.values()].filter((v) => !consumers || consumers.has(v.consumer));
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
