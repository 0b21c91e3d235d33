import { CdrReader } from '@foxglove/cdr';
import { type Logger, type MediaSource, silentLogger, TelekitError } from '@telekit/core';
import { type Frame, frameByteLength, type PixelFormat } from '@telekit/core/contracts';
import { spawnChild } from '@telekit/core/node';
import { defer, EMPTY, Observable, Subject, share, takeUntil } from 'rxjs';
import { type QosSpec, SENSOR_QOS } from './mapping.js';
import type { RosTransport } from './ros-transport.js';

/** A `sensor_msgs/msg/Image` read from its serialized bytes: `data` is a view, never a copy. */
export interface RawImage {
  readonly stamp: number;
  readonly frameId: string;
  readonly width: number;
  readonly height: number;
  readonly encoding: string;
  readonly bigEndian: boolean;
  readonly step: number;
  readonly data: Uint8Array;
}

/**
 * Reads a serialized (CDR) `sensor_msgs/msg/Image` without turning its pixels into JS values:
 * the fields are read in place and `data` is a view into `bytes`.
 */
export function readImage(bytes: Uint8Array): RawImage {
  const r = new CdrReader(bytes);
  const sec = r.int32();
  const nanosec = r.uint32();
  const frameId = r.string();
  const height = r.uint32();
  const width = r.uint32();
  const encoding = r.string();
  const bigEndian = r.uint8() !== 0;
  const step = r.uint32();
  const data = r.uint8Array();
  return { stamp: sec * 1000 + nanosec / 1e6, frameId, width, height, encoding, bigEndian, step, data };
}

/** A serialized `sensor_msgs/msg/CompressedImage`: `data` is a view into `bytes`. */
export function readCompressedImage(bytes: Uint8Array): { stamp: number; format: string; data: Uint8Array } {
  const r = new CdrReader(bytes);
  const sec = r.int32();
  const nanosec = r.uint32();
  r.string(); // frame_id
  const format = r.string();
  return { stamp: sec * 1000 + nanosec / 1e6, format, data: r.uint8Array() };
}

const layouts: Record<string, { format: PixelFormat; bytes: number; swap: boolean }> = {
  rgb8: { format: 'rgb', bytes: 3, swap: false },
  rgba8: { format: 'rgba', bytes: 4, swap: false },
  bgr8: { format: 'rgb', bytes: 3, swap: true },
  bgra8: { format: 'rgba', bytes: 4, swap: true },
};

/**
 * A frame from an image: zero-copy for `rgb8`/`rgba8` without row padding; one pass over the bytes
 * for BGR orders or padded rows. Throws naming the encoding it cannot take.
 */
export function imageToFrame(image: RawImage, seq: number): Frame {
  const layout = layouts[image.encoding];
  if (!layout)
    throw new TelekitError(
      'E_ROS_IMAGE',
      `image encoding ${image.encoding} is not supported: expected one of ${Object.keys(layouts).join(', ')}`,
      { operation: 'frame', context: { field: 'encoding' } },
    );
  const row = image.width * layout.bytes;
  if (image.step < row || image.data.byteLength < image.step * image.height)
    throw new TelekitError(
      'E_ROS_IMAGE',
      `image data is ${image.data.byteLength} bytes, less than step ${image.step} × height ${image.height}`,
      {
        operation: 'frame',
        context: { field: 'data' },
      },
    );
  let data = image.data.subarray(0, row * image.height);
  if (layout.swap || image.step !== row) {
    data = new Uint8Array(row * image.height);
    for (let y = 0; y < image.height; y++)
      data.set(image.data.subarray(y * image.step, y * image.step + row), y * row);
    if (layout.swap)
      for (let i = 0; i < data.length; i += layout.bytes) [data[i], data[i + 2]] = [data[i + 2]!, data[i]!];
  }
  return {
    width: image.width,
    height: image.height,
    format: layout.format,
    timestamp: image.stamp,
    seq,
    data,
  };
}

/** Options of {@link rosImageSource}. */
export interface RosImageSourceOptions {
  /** The ROS topic, e.g. `/camera/image_raw` (or `/camera/image_raw/compressed`). */
  topic: string;
  /** `sensor_msgs/msg/Image` (default) or `sensor_msgs/msg/CompressedImage` (JPEG or PNG, decoded by ffmpeg). */
  type?: 'sensor_msgs/msg/Image' | 'sensor_msgs/msg/CompressedImage';
  /** The picture's size and rate, as the encoder will be set up; frames of another size are dropped with a warning. */
  width: number;
  height: number;
  fps: number;
  /** Pixel layout of `sensor_msgs/msg/Image` frames: `rgb` (rgb8, bgr8; default) or `rgba` (rgba8, bgra8). */
  format?: 'rgb' | 'rgba';
  /** Default: the sensor-data profile (best effort, keep last 5). */
  qos?: QosSpec;
  /** Source name. Default: the topic. */
  name?: string;
  /** ffmpeg for decoding compressed images. Default `ffmpeg`. */
  ffmpeg?: string;
  logger?: Logger;
}

/**
 * A ROS image topic as a core `MediaSource`. The subscription takes the serialized message
 * (`isRaw`), so pixels are never turned into JS numbers — the reason rclnodejs loses most of a
 * camera's frame rate when it deserializes images into objects. Compressed images go through one
 * ffmpeg decoder process (native) into raw RGBA.
 */
export function rosImageSource(transport: RosTransport, options: RosImageSourceOptions): MediaSource {
  const type = options.type ?? 'sensor_msgs/msg/Image';
  const logger = options.logger ?? silentLogger;
  const compressed = type === 'sensor_msgs/msg/CompressedImage';
  const info: MediaSource['info'] = {
    width: options.width,
    height: options.height,
    fps: options.fps,
    format: compressed ? 'rgba' : (options.format ?? 'rgb'),
  };
  const closed$ = new Subject<void>();
  let closed = false;
  const qos = options.qos ?? SENSOR_QOS;

  const live$ = new Observable<Frame>((subscriber) => {
    let seq = 0;
    let warned = false;
    const warn = (message: string) => {
      if (warned) return;
      warned = true;
      logger.warn('frames dropped', { topic: options.topic, reason: message });
    };
    // Started on the first compressed image, for its format (ffmpeg's demuxer must be told).
    let decoder: ReturnType<typeof startDecoder> | undefined;
    const decode = (format: 'jpeg' | 'png', data: Uint8Array, stamp: number) => {
      decoder ??= startDecoder(options.ffmpeg ?? 'ffmpeg', format, info, logger, (frame, at) =>
        subscriber.next({
          width: info.width,
          height: info.height,
          format: 'rgba',
          timestamp: at,
          seq: seq++,
          data: frame,
        }),
      );
      decoder.write(data, stamp);
    };
    const subscription = transport.subscribeRaw(type, options.topic, qos, (bytes) => {
      try {
        if (compressed) {
          const image = readCompressedImage(bytes);
          // `format` is e.g. `jpeg`, `png`, or `rgb8; jpeg compressed bgr8` (image_transport).
          const format = /png/i.test(image.format) ? 'png' : /jpe?g/i.test(image.format) ? 'jpeg' : undefined;
          if (!format) return warn(`compressed format ${image.format}: expected jpeg or png`);
          decode(format, image.data, image.stamp);
          return;
        }
        const frame = imageToFrame(readImage(bytes), seq);
        if (frame.width !== info.width || frame.height !== info.height)
          return warn(`image is ${frame.width}×${frame.height}, the source is ${info.width}×${info.height}`);
        if (frame.format !== info.format)
          return warn(
            `image encoding ${frame.format === 'rgba' ? 'has' : 'lacks'} alpha; the source is ${info.format} (its format option)`,
          );
        seq++;
        subscriber.next(frame);
      } catch (error) {
        warn((error as Error).message);
      }
    });
    return () => {
      subscription();
      decoder?.stop();
    };
  }).pipe(takeUntil(closed$), share());

  return {
    name: options.name ?? options.topic,
    info,
    frames$: defer(() => (closed ? EMPTY : live$)),
    async close() {
      if (closed) return;
      closed = true;
      closed$.next();
      closed$.complete();
    },
  };
}

/** One ffmpeg process decoding a stream of JPEG/PNG images into raw RGBA frames of a fixed size. */
function startDecoder(
  ffmpeg: string,
  format: 'jpeg' | 'png',
  size: { width: number; height: number },
  logger: Logger,
  onFrame: (data: Uint8Array, stamp: number) => void,
) {
  const { width, height } = size;
  const bytes = frameByteLength('rgba', width, height);
  const stamps: number[] = [];
  // No probing or input buffering: a frame comes out as soon as the next image starts. The decoder
  // dies with this process, by any signal (spawnChild), so no ffmpeg outlives a crashed app.
  // biome-ignore format: one flag per line reads worse here
  const child = spawnChild(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-probesize', '32', '-analyzeduration', '0',
    '-fflags', 'nobuffer', '-f', `${format}_pipe`, '-i', '-',
    '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdin = child.stdin!;
  let pending: Buffer = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= bytes) {
      onFrame(pending.subarray(0, bytes), stamps.shift() ?? Date.now());
      pending = pending.subarray(bytes);
    }
  });
  // ffmpeg's errors: the first is logged (a corrupt stream would repeat it for every image); all are
  // read, so a full pipe never blocks the decoder.
  let said = false;
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    if (said) return;
    said = true;
    logger.warn('image decoder error', { error: text.trim().split('\n')[0] });
  });
  stdin.on('error', () => undefined);
  child.on('error', (error) => logger.warn('image decoder failed', { error: error.message }));
  return {
    write(data: Uint8Array, stamp: number) {
      stamps.push(stamp);
      if (stamps.length > 64) stamps.shift();
      if (stdin.writable) stdin.write(data);
    },
    stop() {
      stdin.end();
      child.kill();
    },
  };
}
