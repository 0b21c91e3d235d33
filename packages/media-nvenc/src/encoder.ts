import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { consoleLogger, type Frame, type Logger, type PixelFormat, TelekitError } from '@telekit/core';
import { spawnChild } from '@telekit/core/node';
import { BehaviorSubject, type Observable } from 'rxjs';

/** Encoders Telekit drives. `auto` picks NVENC where it works and libx264 otherwise. */
export type EncoderName = 'auto' | 'h264_nvenc' | 'libx264' | 'libsvtav1';

/** Resolution, rate and bitrate of a stream. */
export interface EncoderProfile {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Target bitrate, kbit/s. */
  readonly bitrateKbps: number;
  /** Keyframe interval, s (at most 1: a viewer who joins waits at most this long for a picture). */
  readonly gopSeconds: number;
}

/** Profiles, including the design's 1080p60 at 6–12 Mbit/s. */
export const profiles = {
  '480p30': { width: 640, height: 480, fps: 30, bitrateKbps: 1_500, gopSeconds: 1 },
  '720p30': { width: 1280, height: 720, fps: 30, bitrateKbps: 3_000, gopSeconds: 1 },
  '720p60': { width: 1280, height: 720, fps: 60, bitrateKbps: 5_000, gopSeconds: 1 },
  '1080p30': { width: 1920, height: 1080, fps: 30, bitrateKbps: 6_000, gopSeconds: 1 },
  '1080p60': { width: 1920, height: 1080, fps: 60, bitrateKbps: 9_000, gopSeconds: 1 },
} as const satisfies Record<string, EncoderProfile>;

/** Runs a short command that dies with this process; killed after `timeoutMs`. */
const run = (cmd: string, args: string[], timeoutMs: number) =>
  new Promise<{ ok: boolean; stderr: string }>((resolve) => {
    const child = spawnChild(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, stderr: error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, stderr });
    });
  });

/**
 * Whether an encoder actually works here: encodes one small frame with it. (ffmpeg lists
 * `h264_nvenc` on machines without a GPU, then fails with `Cannot load libcuda.so.1`.)
 */
export async function probeEncoder(
  name: Exclude<EncoderName, 'auto'>,
  ffmpeg = 'ffmpeg',
): Promise<{ ok: boolean; reason: string }> {
  const r = await run(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=size=256x256:rate=1',
      '-frames:v',
      '1',
      '-c:v',
      name,
      '-f',
      'null',
      '-',
    ],
    15_000,
  );
  const reason = r.ok ? 'works' : (r.stderr.split('\n').find((l) => l.trim()) ?? 'failed').trim();
  return { ok: r.ok, reason };
}

/** Picks the encoder for `auto`: NVENC if it works here, else libx264; any other name as given, if it works. */
export async function chooseEncoder(
  name: EncoderName = 'auto',
  ffmpeg = 'ffmpeg',
): Promise<{ encoder: Exclude<EncoderName, 'auto'>; why: string }> {
  if (name === 'auto') {
    const nvenc = await probeEncoder('h264_nvenc', ffmpeg);
    if (nvenc.ok) return { encoder: 'h264_nvenc', why: 'NVENC works here' };
    return { encoder: 'libx264', why: `NVENC unavailable (${nvenc.reason}); software H.264` };
  }
  const p = await probeEncoder(name, ffmpeg);
  if (!p.ok)
    throw new TelekitError('E_MEDIA_ENCODER', `encoder ${name} does not work here: ${p.reason}`, {
      context: { encoder: name },
    });
  return { encoder: name, why: 'as configured' };
}

/** ffmpeg's name of each raw pixel layout. */
const FFMPEG_PIXEL_FORMATS: Record<PixelFormat, string> = { rgba: 'rgba', rgb: 'rgb24', i420: 'yuv420p' };

/** Where the encoder reads frames from. */
export type EncoderInput =
  /** Raw frames of the profile's size (`format`, default RGBA) on the encoder's stdin (write them with `write`). */
  | { kind: 'stdin'; format?: PixelFormat }
  /** Raw frames (`format`, default RGBA) pushed to a TCP port the encoder listens on (the sim sidecar's `tcp:` sink). */
  | { kind: 'tcp'; port: number; format?: PixelFormat }
  /** ffmpeg's own test pattern (for tests and demos). */
  | { kind: 'test-pattern' }
  /** A V4L2 capture device (a USB or CSI camera), read by ffmpeg itself at the profile's size and rate. */
  | { kind: 'v4l2'; device: string };

/** Options of {@link encoderArgs}. */
export interface EncoderArgsOptions {
  encoder: Exclude<EncoderName, 'auto'>;
  profile: EncoderProfile;
  input: EncoderInput;
  /**
   * RTP destination: the SFU's PlainTransport. `localPort` fixes the encoder's source port, so that a
   * restarted encoder is still the sender a `comedia` transport locked onto. `localAddress` is the
   * address ffmpeg binds its RTP and RTCP sockets to: by default `127.0.0.1` when `host` is a
   * loopback address (the SFU in the same machine, the usual case), so nothing else on the network
   * can send to the encoder's ports; give a routable address only for an SFU on another host.
   */
  rtp: {
    host: string;
    port: number;
    payloadType: number;
    ssrc: number;
    localPort?: number;
    localAddress?: string;
  };
  /**
   * Also write the same encoded stream as HLS (segments of one GOP, a short rolling playlist) to
   * this directory, as `index.m3u8`: the fallback for networks where WebRTC fails, and for
   * debugging. One encode feeds both.
   */
  hlsDir?: string;
}

/**
 * The ffmpeg command line for a low-latency stream: no B-frames, zero-latency tuning (NVENC: the
 * ultra-low-latency tune with no added delay), a keyframe at least every `gopSeconds`, constrained
 * bitrate, RTP out.
 */
export function encoderArgs(o: EncoderArgsOptions): string[] {
  const { width, height, fps, bitrateKbps, gopSeconds } = o.profile;
  const gop = Math.max(1, Math.round(fps * Math.min(1, gopSeconds)));
  const input =
    o.input.kind === 'test-pattern'
      ? ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`]
      : o.input.kind === 'v4l2'
        ? ['-f', 'v4l2', '-framerate', String(fps), '-video_size', `${width}x${height}`, '-i', o.input.device]
        : [
            '-f',
            'rawvideo',
            '-pix_fmt',
            FFMPEG_PIXEL_FORMATS[o.input.format ?? 'rgba'],
            '-s',
            `${width}x${height}`,
            '-r',
            String(fps),
            '-i',
            o.input.kind === 'stdin' ? 'pipe:0' : `tcp://127.0.0.1:${o.input.port}?listen=1`,
          ];
  const rate = [
    '-b:v',
    `${bitrateKbps}k`,
    '-maxrate',
    `${bitrateKbps}k`,
    '-bufsize',
    `${Math.round(bitrateKbps / 2)}k`,
  ];
  const codec =
    o.encoder === 'h264_nvenc'
      ? [
          '-c:v',
          'h264_nvenc',
          '-preset',
          'p1',
          '-tune',
          'ull',
          '-zerolatency',
          '1',
          '-delay',
          '0',
          '-rc-lookahead',
          '0',
          '-profile:v',
          'baseline',
        ]
      : o.encoder === 'libsvtav1'
        ? ['-c:v', 'libsvtav1', '-preset', '12', '-svtav1-params', 'tune=0:pred-struct=1']
        : [
            '-c:v',
            'libx264',
            '-preset',
            'ultrafast',
            '-tune',
            'zerolatency',
            '-profile:v',
            'baseline',
            '-x264-params',
            `keyint=${gop}:min-keyint=${gop}:scenecut=0:repeat-headers=1`,
          ];
  const localAddress = o.rtp.localAddress ?? (isLoopback(o.rtp.host) ? '127.0.0.1' : undefined);
  const rtpUrl =
    `rtp://${o.rtp.host}:${o.rtp.port}?pkt_size=1200` +
    (localAddress ? `&localaddr=${localAddress}` : '') +
    (o.rtp.localPort ? `&localrtpport=${o.rtp.localPort}&localrtcpport=${o.rtp.localPort + 1}` : '');
  const output = o.hlsDir
    ? [
        '-map',
        '0:v',
        '-f',
        'tee',
        // One encode, two outputs. A failing HLS output (a full disk) never stops the RTP one.
        `[f=rtp:payload_type=${o.rtp.payloadType}:ssrc=${o.rtp.ssrc}]${rtpUrl}|` +
          `[f=hls:hls_time=${gopSeconds}:hls_list_size=6:hls_flags=delete_segments+independent_segments+omit_endlist:hls_start_number_source=epoch:onfail=ignore]${o.hlsDir}/index.m3u8`,
      ]
    : ['-f', 'rtp', '-payload_type', String(o.rtp.payloadType), '-ssrc', String(o.rtp.ssrc), rtpUrl];
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    // Progress (frames, fps) as key=value lines on stdout, twice a second.
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.5',
    '-fflags',
    'nobuffer',
    ...input,
    ...codec,
    '-bf',
    '0',
    '-g',
    String(gop),
    '-pix_fmt',
    'yuv420p',
    ...rate,
    '-an',
    ...output,
  ];
}

/** True for `localhost` and the IPv4 loopback network (127.0.0.0/8). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

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
  readonly encoder: Exclude<EncoderName, 'auto'>;
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

/**
 * An ffmpeg encoder that is restarted when it dies, with the same SSRC and payload type, so the
 * SFU's producer keeps going and viewers never reconnect.
 */
export class SupervisedEncoder {
  readonly status$: Observable<EncoderStatus>;
  readonly #status: BehaviorSubject<EncoderStatus>;
  #args: string[] = [];
  readonly #options: EncoderArgsOptions;
  readonly #ffmpeg: string;
  readonly #log: Logger;
  #child: ChildProcess | undefined;
  #closed = false;
  #delay = 100;
  #stats: EncoderStats = { frames: 0, totalFrames: 0, fps: 0, cpuMsPerFrame: 0, lastFrameAt: 0 };
  #sample = { at: 0, frames: 0, cpu: 0 };

  constructor(options: EncoderArgsOptions & { ffmpeg?: string; logger?: Logger }) {
    this.#options = options;
    this.#ffmpeg = options.ffmpeg ?? 'ffmpeg';
    this.#log = options.logger ?? consoleLogger({ bindings: { plugin: '@telekit/media-nvenc' } });
    this.#status = new BehaviorSubject<EncoderStatus>({
      running: false,
      restarts: 0,
      encoder: options.encoder,
    });
    this.status$ = this.#status.asObservable();
    this.#init().catch((error: unknown) => {
      // No ports for the encoder: say so in the status rather than leave a rejection unhandled.
      const lastExit = `not started: ${error instanceof Error ? error.message : String(error)}`;
      this.#log.error('encoder not started', { lastExit });
      if (!this.#closed) this.#status.next({ ...this.#status.value, running: false, lastExit });
    });
  }

  async #init(): Promise<void> {
    // A fixed source port, the OS's choice unless given: a restarted encoder must send from the
    // port a comedia PlainTransport locked onto.
    const localPort = this.#options.rtp.localPort ?? (await freeUdpPortPair());
    this.#args = encoderArgs({ ...this.#options, rtp: { ...this.#options.rtp, localPort } });
    if (!this.#closed) this.#start();
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

  #start(): void {
    // Tied to this process: if Node dies by any signal, even SIGKILL, the kernel kills the encoder.
    const child = spawnChild(this.#ffmpeg, this.#args, { stdio: ['pipe', 'pipe', 'pipe'] });
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
      this.#status.next({ ...this.#status.value, running: false, lastExit });
      if (this.#closed) return;
      // Back off only if it keeps dying at once.
      this.#delay = Date.now() - startedAt > 5_000 ? 100 : Math.min(this.#delay * 2, 5_000);
      this.#log.warn('encoder stopped; restarting', { lastExit, inMs: this.#delay });
      setTimeout(() => {
        if (this.#closed) return;
        this.#status.next({ ...this.#status.value, restarts: this.#status.value.restarts + 1 });
        this.#start();
      }, this.#delay);
    };
    child.once('exit', (code, signal) => onGone(signal ? `killed by ${signal}` : `exit code ${code}`));
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

  /** Stops the encoder for good. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    }
    this.#status.complete();
  }
}
