import type { types } from 'mediasoup';
import { Counter, Gauge, Registry } from 'prom-client';
import { CpuRate, processCpuMs } from './process-cpu.js';
import type { EncoderStats, EncoderStatus } from './supervised-encoder.js';
import type { ServerVideoBudget } from './video-timeline.js';

/**
 * Whether a stream is delivering pictures: `idle` while nobody wants it (its encoder and source
 * are stopped), `starting` from the moment someone does until its first picture, `live`, and
 * `no-signal` when wanted and no picture has reached the SFU for `noSignalMs`.
 */
export type SignalState = 'idle' | 'starting' | 'live' | 'no-signal';

/** How long a stream may take from being wanted to its first picture before it shows `no-signal`, ms. */
const STARTUP_MS = 5_000;

/** What the media side of the server spends, in cores (1 = one core busy), over the last second. */
export interface MediaCpu {
  /** Every stream's encoder together (ffmpeg processes). */
  readonly encoder: number;
  /** Each stream's encoder. */
  readonly encoders: Readonly<Record<string, number>>;
  /** The mediasoup worker (the SFU). */
  readonly sfu: number;
  /** This Node process: the gateway and every plugin of the app, this one included. */
  readonly node: number;
}

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
  /** Who holds the stream (WebRTC viewers, HLS clients, other plugins): while any does, it runs. */
  readonly holders: number;
  /** The server's stages of the video's latency budget (render, encode, SFU) over the last seconds. */
  readonly budget?: ServerVideoBudget;
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
  readonly encoder: () => { status: EncoderStatus; stats: EncoderStats; pid?: number | undefined };
  readonly viewers: () => number;
  /** Whether someone wants the stream (else it is `idle`). Default: always. */
  readonly wanted?: () => boolean;
  /** How many hold it. Default: its viewers. */
  readonly holders?: () => number;
  /** The server's stages of its frames' trip, over the window ending at `now`. */
  readonly budget?: (now: number) => ServerVideoBudget;
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
  /** The SFU worker's process id, for its CPU figure. */
  workerPid?: () => number | undefined;
  /** The app's clock, for the stage figures' windows. Default `Date.now`. */
  now?: () => number;
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
    {
      state: SignalState;
      bytes: number;
      lastVideoAt: number;
      wantedSince: number;
      keyframes: number;
      bitrate: number;
    }
  >();
  readonly #cpu = { sfu: new CpuRate(), node: new CpuRate(), encoders: new Map<string, CpuRate>() };
  readonly #nodeCpu = process.cpuUsage();
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
    holders: this.#gauge(
      'telekit_media_holders',
      'Holders of a stream (viewers, HLS clients, other plugins); 0: its encoder is stopped',
    ),
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
  readonly #stage = new Gauge({
    name: 'telekit_media_video_stage_ms',
    help: 'A stage of the video frames’ trip on the server (render, encode, sfu), ms, over the last seconds, by stream and quantile',
    labelNames: ['stream', 'stage', 'quantile'],
    registers: [this.registry],
  });
  readonly #cpuGauge = new Gauge({
    name: 'telekit_media_cpu_cores',
    help: 'CPU of the media side, in cores, over the last second: encoder (all streams), sfu (the mediasoup worker), node (this process)',
    labelNames: ['part'],
    registers: [this.registry],
  });
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
    const entry = {
      state: (stream.wanted?.() ?? true) ? ('starting' as SignalState) : ('idle' as SignalState),
      bytes: 0,
      lastVideoAt: 0,
      wantedSince: Date.now(),
      keyframes: 0,
      bitrate: 0,
    };
    this.#cpu.encoders.set(stream.id, new CpuRate());
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
      const wanted = stream.wanted?.() ?? true;
      if (wanted && entry.state === 'idle') entry.wantedSince = now;
      if (bytes > entry.bytes) entry.lastVideoAt = now;
      entry.bytes = bytes;
      entry.bitrate = (stat?.bitrate ?? 0) / 1000;
      const noSignalMs = this.#options.noSignalMs ?? 2_000;
      const next: SignalState = !wanted
        ? 'idle'
        : entry.lastVideoAt < entry.wantedSince
          ? // Starting takes a moment (the encoder and the source start): longer than noSignalMs.
            now - entry.wantedSince > Math.max(noSignalMs, STARTUP_MS)
            ? 'no-signal'
            : 'starting'
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
      this.#g.holders.set({ stream: id }, s.holders);
      for (const f of s.budget?.stages ?? []) {
        this.#stage.set({ stream: id, stage: f.stage, quantile: '0.5' }, f.p50);
        this.#stage.set({ stream: id, stage: f.stage, quantile: '0.99' }, f.p99);
      }
      const pid = stream.encoder().pid;
      this.#cpu.encoders.get(id)?.sample(now, processCpuMs(pid), pid);
    }
    const workerPid = this.#options.workerPid?.();
    this.#cpu.sfu.sample(now, processCpuMs(workerPid), workerPid);
    const node = process.cpuUsage(this.#nodeCpu);
    this.#cpu.node.sample(now, (node.user + node.system) / 1000, 'node');
    const cpu = this.cpu();
    this.#cpuGauge.set({ part: 'encoder' }, cpu.encoder);
    this.#cpuGauge.set({ part: 'sfu' }, cpu.sfu);
    this.#cpuGauge.set({ part: 'node' }, cpu.node);
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
      holders: stream.holders?.() ?? stream.viewers(),
      ...(stream.budget ? { budget: stream.budget(this.#options.now?.() ?? Date.now()) } : {}),
    };
  }

  /** What the encoders, the SFU worker and this process spent over the last second, in cores. */
  cpu(): MediaCpu {
    const encoders = Object.fromEntries([...this.#cpu.encoders].map(([id, r]) => [id, r.cores]));
    return {
      encoder: Object.values(encoders).reduce((a, b) => a + b, 0),
      encoders,
      sfu: this.#cpu.sfu.cores,
      node: this.#cpu.node.cores,
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
