import { TelekitError } from '@telekit/core';
import type { PixelFormat } from '@telekit/core/contracts';

/** Encoders Telekit drives. `auto` picks NVENC where it works and libx264 otherwise. */
/**
 * The encoders Telekit drives. All make H.264, the one codec its router negotiates end to end with
 * every browser (an AV1 encoder was dropped: Debian 12's ffmpeg 5.1 has no AV1 RTP packetizer, so
 * its output could not reach mediasoup, and the router offered no AV1).
 */
export type EncoderName = 'auto' | 'h264_nvenc' | 'libx264';

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
  | { kind: 'v4l2'; device: string }
  /**
   * H.264 already encoded (a recording played back): access units in IVF frames on the encoder's
   * stdin, each with its presentation time (write them with `SupervisedEncoder.writeAccessUnit`).
   * They are copied into RTP and HLS, never encoded again; the encoder must be `'copy'`.
   */
  | { kind: 'h264' };

/** Options of {@link encoderArgs}. */
export interface EncoderArgsOptions {
  /** The encoder; `'copy'` (and only it) with the `h264` input, which is copied rather than encoded. */
  encoder: Exclude<EncoderName, 'auto'> | 'copy';
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
    /** The first RTP sequence number (0–65535); default ffmpeg's random one. */
    seq?: number;
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
  const raw = o.input.kind === 'stdin' || o.input.kind === 'tcp';
  const copy = o.input.kind === 'h264';
  if (copy !== (o.encoder === 'copy'))
    throw new TelekitError(
      'E_CONFIG',
      `encoder ${o.encoder} does not fit input ${o.input.kind}: the h264 input takes the copy encoder, and only it`,
      { context: { field: 'encoder' } },
    );
  const input =
    o.input.kind === 'h264'
      ? // IVF frames carry each picture's size and time: nothing to parse or probe (probing the
        // frame rate would hold the first pictures back), and nothing to re-time or re-encode.
        ['-probesize', '32', '-fpsprobesize', '0', '-analyzeduration', '0', '-f', 'ivf', '-i', 'pipe:0']
      : o.input.kind === 'test-pattern'
        ? ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`]
        : o.input.kind === 'v4l2'
          ? [
              '-f',
              'v4l2',
              '-framerate',
              String(fps),
              '-video_size',
              `${width}x${height}`,
              '-i',
              o.input.device,
            ]
          : [
              // The format, size and rate are given: nothing to probe, so the first frame is encoded
              // as soon as it is read (probing would wait for several frames first).
              '-probesize',
              '32',
              '-analyzeduration',
              '0',
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
    o.encoder === 'copy'
      ? ['-c:v', 'copy']
      : o.encoder === 'h264_nvenc'
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
  const seq = o.rtp.seq !== undefined ? `:seq=${o.rtp.seq & 0xffff}` : '';
  const output = o.hlsDir
    ? [
        '-map',
        '0:v',
        '-f',
        'tee',
        // One encode, two outputs. A failing HLS output (a full disk) never stops the RTP one.
        `[f=rtp:payload_type=${o.rtp.payloadType}:ssrc=${o.rtp.ssrc}${seq}]${rtpUrl}|` +
          `[f=hls:hls_time=${gopSeconds}:hls_list_size=6:hls_flags=delete_segments+independent_segments+omit_endlist:hls_start_number_source=epoch:onfail=ignore]${o.hlsDir}/index.m3u8`,
      ]
    : [
        '-f',
        'rtp',
        '-payload_type',
        String(o.rtp.payloadType),
        '-ssrc',
        String(o.rtp.ssrc),
        ...(o.rtp.seq !== undefined ? ['-seq', String(o.rtp.seq & 0xffff)] : []),
        rtpUrl,
      ];
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    // Progress (frames, fps) as key=value lines on stdout, twice a second.
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.5',
    // `nobuffer` for inputs ffmpeg probes (a camera, its test pattern). Raw frames (and IVF ones)
    // are not probed beyond their first (`-probesize 32`), and with `nobuffer` that first frame
    // would be thrown away: the encoder's frame n would be the source's n + 1.
    ...(raw || copy ? [] : ['-fflags', 'nobuffer']),
    ...input,
    // Raw frames are timed when they arrive (the wall clock, to the µs, on the 90 kHz RTP clock),
    // and none is made up or thrown away to fill a constant rate: the RTP timestamps follow the
    // source's real pace, frames it skipped included. With the nominal rate's timestamps a viewer's
    // jitter buffer grew by every frame the source skipped.
    ...(raw
      ? [
          '-vf',
          'settb=1/90000,setpts=(RTCTIME-RTCSTART)/(TB*1000000)',
          '-fps_mode',
          'passthrough',
          '-enc_time_base',
          '1/90000',
        ]
      : []),
    ...codec,
    ...(copy ? [] : ['-bf', '0', '-g', String(gop), '-pix_fmt', 'yuv420p', ...rate]),
    '-an',
    ...output,
  ];
}

/** True for `localhost` and the IPv4 loopback network (127.0.0.0/8). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
