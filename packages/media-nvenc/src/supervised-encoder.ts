import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { consoleLogger, type Logger, TelekitError } from '@telekit/core';
import type { Frame } from '@telekit/core/contracts';
import { Backoff, spawnChild } from '@telekit/core/node';
import { BehaviorSubject, type Observable } from 'rxjs';
import { type EncoderArgsOptions, type EncoderName, encoderArgs } from './encoder-args.js';
import { IVF_CLOCK_HZ, isH264Keyframe, ivfFrame, ivfHeader } from './ivf.js';

/** Two adjacent free UDP ports (RTP and RTCP) on loopback, from the OS. */
export async function freeUdpPortPair(): Promise<number> {
  const bind = (port: number) =>
    new Promise<ReturnType<typeof createSocket> | undefined>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(undefined);
      });
      s.bind(port, '127.0.0.1', () => resolve(s));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bind(0);
    if (!first) continue;
    const port = first.address().port;
    const second = await bind(port + 1);
    first.close();
    if (second) {
      second.close();
      return port;
    }
  }
  throw new TelekitError('E_MEDIA_ENCODER', 'no free pair of UDP ports for the encoder');
}

/** The encoder's state. */
export interface EncoderStatus {
  readonly running: boolean;
  readonly restarts: number;
  readonly encoder: Exclude<EncoderName, 'auto'> | 'copy';
  readonly lastExit?: string;
}

/** What the encoder reports of its work (from ffmpeg's progress lines and the process's CPU time). */
export interface EncoderStats {
  /** Frames encoded since the encoder (re)started. */
  readonly frames: number;
  /** Frames encoded, all restarts included. */
  readonly totalFrames: number;
  /** Encoded frames per second, over the last progress interval. */
  readonly fps: number;
  /** CPU time per encoded frame over the last interval, ms (decode of the input included). */
  readonly cpuMsPerFrame: number;
  /** When a frame was last encoded (ms since the epoch), or 0 if none yet. */
  readonly lastFrameAt: number;
}

const CLOCK_TICK_MS = 10; // Linux's USER_HZ is 100 on every architecture Node runs on

/** CPU time (user + system) of a process so far, ms; undefined where /proc is missing. */
function cpuTimeMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}

/** Options of {@link SupervisedEncoder}. */
export type SupervisedEncoderOptions = EncoderArgsOptions & {
  ffmpeg?: string;
  logger?: Logger;
  /**
   * Start at once (default true). False leaves it stopped until {@link SupervisedEncoder.start}:
   * the media plugin starts a stream's encoder only while someone watches.
   */
  autoStart?: boolean;
  /**
   * The RTP sequence number each new ffmpeg process starts from (asked at every start and
   * restart). An SFU drops the first packet after a large jump in sequence numbers (RFC 3550's
   * probation) — for a new encoder that is the start of its first keyframe, and the viewer then waits
   * a whole GOP — so the media plugin continues the numbering of the last run. Default: ffmpeg's
   * random start.
   */
  rtpSequence?: () => Promise<number | undefined> | number | undefined;
};

/**
 * An ffmpeg encoder that is restarted when it dies, with the same SSRC and payload type, so the
 * SFU's producer keeps going and viewers never reconnect. `start()` and `stop()` run it on demand;
 * a stopped encoder is not restarted.
 */
export class SupervisedEncoder {
  readonly status$: Observable<EncoderStatus>;
  readonly #status: BehaviorSubject<EncoderStatus>;
  #localPort = 0;
  #spawning: Promise<void> | undefined;
  readonly #options: SupervisedEncoderOptions;
  readonly #ffmpeg: string;
  readonly #log: Logger;
  #child: ChildProcess | undefined;
  #closed = false;
  /** Whether it should be running (started and not stopped): a death is then restarted. */
  #wanted: boolean;
  #ready: Promise<void>;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #backoff = new Backoff({ initialMs: 100, maxMs: 5_000, stableMs: 5_000 });
  #stats: EncoderStats = { frames: 0, totalFrames: 0, fps: 0, cpuMsPerFrame: 0, lastFrameAt: 0 };
  #sample = { at: 0, frames: 0, cpu: 0 };

  constructor(options: SupervisedEncoderOptions) {
    this.#options = options;
    this.#ffmpeg = options.ffmpeg ?? 'ffmpeg';
    this.#log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/media-nvenc' } });
    this.#status = new BehaviorSubject<EncoderStatus>({
      running: false,
      restarts: 0,
      encoder: options.encoder,
    });
    this.status$ = this.#status.asObservable();
    this.#wanted = options.autoStart ?? true;
    this.#ready = this.#init();
    this.#ready.catch((error: unknown) => {
      // No ports for the encoder: say so in the status rather than leave a rejection unhandled.
      const lastExit = `not started: ${error instanceof Error ? error.message : String(error)}`;
      this.#log.error('encoder not started', { lastExit });
      if (!this.#closed) this.#status.next({ ...this.#status.value, running: false, lastExit });
    });
  }

  async #init(): Promise<void> {
    // A fixed source port, the OS's choice unless given: a restarted encoder must send from the
    // port a comedia PlainTransport locked onto.
    this.#localPort = this.#options.rtp.localPort ?? (await freeUdpPortPair());
    await this.#launch();
  }

  /** Spawns ffmpeg unless it runs, is being spawned, or should not run. */
  #launch(): Promise<void> {
    this.#spawning ??= (async () => {
      if (this.#closed || !this.#wanted || this.#child) return;
      const seq = await this.#options.rtpSequence?.();
      if (this.#closed || !this.#wanted || this.#child) return;
      this.#start(seq);
    })().finally(() => {
      this.#spawning = undefined;
    });
    return this.#spawning;
  }

  /**
   * Starts the encoder (nothing if it runs). Resolves once the process is spawned; a TCP input
   * listens a few tens of ms later.
   */
  async start(): Promise<void> {
    if (this.#closed) throw new TelekitError('E_MEDIA_ENCODER', 'the encoder is closed');
    this.#wanted = true;
    await this.#ready;
    await this.#launch();
  }

  /** Stops the encoder until the next `start()`; it is not restarted meanwhile. Safe to call twice. */
  async stop(): Promise<void> {
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#kill();
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    }
  }

  /** The running ffmpeg process (for writing frames to stdin, and for drills). */
  get process(): ChildProcess | undefined {
    return this.#child;
  }

  get status(): EncoderStatus {
    return this.#status.value;
  }

  /** Frames, rate and CPU per frame, as of the last progress report (twice a second). */
  get stats(): EncoderStats {
    return this.#stats;
  }

  #progress(frames: number): void {
    const now = Date.now();
    const cpu = cpuTimeMs(this.#child?.pid) ?? 0;
    const s = this.#stats;
    const dFrames = frames - this.#sample.frames;
    const dt = (now - this.#sample.at) / 1000;
    const encoded = Math.max(0, frames - s.frames);
    this.#stats = {
      frames,
      totalFrames: s.totalFrames + encoded,
      fps: dt > 0 && this.#sample.at > 0 ? Math.max(0, dFrames) / dt : s.fps,
      cpuMsPerFrame: dFrames > 0 ? (cpu - this.#sample.cpu) / dFrames : s.cpuMsPerFrame,
      lastFrameAt: encoded > 0 ? now : s.lastFrameAt,
    };
    this.#sample = { at: now, frames, cpu };
  }

  #start(seq: number | undefined): void {
    const { rtp } = this.#options;
    const args = encoderArgs({
      ...this.#options,
      rtp: { ...rtp, localPort: this.#localPort, ...(seq !== undefined ? { seq } : {}) },
    });
    // Tied to this process: if Node dies by any signal, even SIGKILL, the kernel kills the encoder.
    const child = spawnChild(this.#ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#sample = { at: 0, frames: 0, cpu: 0 };
    this.#stats = { ...this.#stats, frames: 0, fps: 0 };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('frame=')) this.#progress(Number(line.slice(6)) || 0);
    });
    child.stdin?.on('error', () => undefined); // a dead encoder's pipe: the restart handles it
    createInterface({ input: child.stderr! }).on('line', (line) =>
      this.#log.warn(line, { encoder: this.#status.value.encoder }),
    );
    const startedAt = Date.now();
    this.#status.next({ ...this.#status.value, running: true });
    let gone = false;
    const onGone = (lastExit: string) => {
      if (gone) return;
      gone = true;
      if (this.#child === child) this.#child = undefined;
      this.#status.next({ ...this.#status.value, running: false, lastExit });
      if (this.#closed || !this.#wanted) return;
      // Back off only while it keeps dying at once.
      this.#backoff.ran(Date.now() - startedAt);
      const delay = this.#backoff.next();
      this.#log.warn('encoder stopped; restarting', { lastExit, inMs: delay });
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        if (this.#closed || !this.#wanted || this.#child) return;
        this.#status.next({ ...this.#status.value, restarts: this.#status.value.restarts + 1 });
        void this.#launch();
      }, delay);
    };
    child.once('exit', (code, signal) =>
      onGone(!this.#wanted ? 'stopped' : signal ? `killed by ${signal}` : `exit code ${code}`),
    );
    // A command that cannot be started at all (no ffmpeg where there is no setpriv either).
    child.on('error', (error) => {
      if (child.pid === undefined) onGone(`not started: ${error.message}`);
      else this.#log.warn('encoder process error', { error: error.message });
    });
  }

  /**
   * Feeds raw RGBA frames (a core `MediaSource`'s `frames$`) to an encoder started with the
   * `stdin` input. A frame arriving while the encoder is still busy with the last two is
   * dropped (counted in `dropped`), so a slow encoder never stalls the source; frames keep flowing
   * to the new process after a restart.
   */
  feed(frames$: Observable<Frame>): { readonly dropped: number; unsubscribe(): void } {
    let dropped = 0;
    const sub = frames$.subscribe((frame) => {
      const stdin = this.#child?.stdin;
      if (!stdin || stdin.destroyed || !stdin.writable || stdin.writableLength > 2 * frame.data.byteLength) {
        dropped++;
        return;
      }
      stdin.write(frame.data);
    });
    return {
      get dropped() {
        return dropped;
      },
      unsubscribe: () => sub.unsubscribe(),
    };
  }

  /**
   * Writes one H.264 access unit (Annex B, one picture) to an encoder started with the `h264`
   * input, stamped with the time it is written (the 90 kHz clock, each later than the last): the
   * pictures go out at the pace they are written. Each new ffmpeg process gets the IVF header first
   * and starts at a keyframe; until then, and after a unit dropped because the encoder is 50 units
   * behind, units are dropped up to the next keyframe (a picture without the ones it refers to
   * cannot be decoded). False when the unit was dropped.
   */
  writeAccessUnit(au: Uint8Array): boolean {
    if (this.#options.input.kind !== 'h264')
      throw new TelekitError('E_MEDIA_ENCODER', 'writeAccessUnit needs an encoder with the h264 input');
    const child = this.#child;
    const stdin = child?.stdin;
    const keyframe = isH264Keyframe(au);
    if (!child || !stdin || stdin.destroyed || !stdin.writable) return false;
    let feed = this.#auFeed;
    if (feed?.child !== child) {
      if (!keyframe) return false;
      stdin.write(ivfHeader(this.#options.profile.width, this.#options.profile.height));
      feed = { child, broken: false, pts: feed?.pts ?? 0, pending: 0 };
      this.#auFeed = feed;
    }
    if (feed.pending >= 50 || (feed.broken && !keyframe)) {
      feed.broken = true;
      return false;
    }
    feed.broken = false;
    const pts = Math.max(feed.pts + 1, Math.floor((performance.now() * IVF_CLOCK_HZ) / 1000));
    feed.pts = pts;
    feed.pending++;
    const f = feed;
    stdin.write(ivfFrame(au, pts), () => {
      f.pending--;
    });
    return true;
  }

  /** The `h264` input's feed into the current ffmpeg process. */
  #auFeed: { child: ChildProcess; broken: boolean; pts: number; pending: number } | undefined;

  /** Stops the encoder for good. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    await this.#kill();
    this.#status.complete();
  }
}
