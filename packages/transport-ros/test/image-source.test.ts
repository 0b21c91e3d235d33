import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CdrWriter } from '@foxglove/cdr';
import type { MediaSource } from '@telekit/core';
import type { Frame } from '@telekit/core/contracts';
import { canTieChildToParent } from '@telekit/core/node';
import { describeMediaSource, pixelStdDev } from '@telekit/testkit';
import { firstValueFrom, take, timeout, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRosTransport, readImage, rosImageSource } from '../src/index.js';
import { fakeRcl } from '../src/testing/index.js';

/** A `sensor_msgs/msg/Image` serialized as a ROS 2 driver would (CDR, little endian). */
function image(width: number, height: number, encoding: string, fill: (i: number) => number, step?: number) {
  const bpp = encoding.endsWith('a8') ? 4 : 3;
  const rowStep = step ?? width * bpp;
  const data = new Uint8Array(rowStep * height);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  const w = new CdrWriter();
  w.int32(1_700_000_000).uint32(250_000_000).string('camera_optical');
  w.uint32(height).uint32(width).string(encoding).uint8(0).uint32(rowStep);
  w.uint8Array(data, true);
  return w.data;
}

function compressed(format: string, data: Uint8Array) {
  const w = new CdrWriter();
  w.int32(1_700_000_000).uint32(0).string('camera_optical').string(format);
  w.uint8Array(data, true);
  return w.data;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function camera(topic: string, type: string) {
  const rcl = fakeRcl();
  const transport = await createRosTransport({ rcl, mappings: [] });
  const publisher = rcl.node('camera_driver').createPublisher(type, topic);
  open.push(transport);
  return { transport, publish: (bytes: Uint8Array) => publisher.publish(bytes as never) };
}

const frames = (source: MediaSource, n: number) =>
  firstValueFrom(source.frames$.pipe(take(n), toArray(), timeout(5_000)));

describe('reading sensor_msgs/msg/Image without deserializing the pixels', () => {
  it('reads the fields in place; data is a view into the message bytes', () => {
    const bytes = image(4, 2, 'rgb8', (i) => i);
    const img = readImage(bytes);
    expect(img).toMatchObject({ width: 4, height: 2, encoding: 'rgb8', step: 12, frameId: 'camera_optical' });
    expect(img.stamp).toBe(1_700_000_000_250);
    expect(img.data.buffer).toBe(bytes.buffer);
    expect(Array.from(img.data.subarray(0, 4))).toEqual([0, 1, 2, 3]);
  });
});

describe('rosImageSource', () => {
  it('rgb8 frames pass through without a copy', async () => {
    const { transport, publish } = await camera('/camera/image_raw', 'sensor_msgs/msg/Image');
    const source = rosImageSource(transport, { topic: '/camera/image_raw', width: 4, height: 2, fps: 30 });
    const sent = image(4, 2, 'rgb8', (i) => i * 10);
    const got = frames(source, 1);
    setTimeout(() => publish(sent), 20);
    const [frame] = (await got) as [Frame];
    expect(frame).toMatchObject({ width: 4, height: 2, format: 'rgb', seq: 0, timestamp: 1_700_000_000_250 });
    expect(frame.data.buffer).toBe(sent.buffer);
  });

  it('bgr8 is reordered, padded rows are packed, other sizes and encodings are dropped with a warning', async () => {
    const { transport, publish } = await camera('/cam', 'sensor_msgs/msg/Image');
    const warnings: string[] = [];
    const logger = {
      ...console,
      warn: (_: string, data?: { reason?: string }) => warnings.push(data?.reason ?? ''),
    };
    const source = rosImageSource(transport, {
      topic: '/cam',
      width: 2,
      height: 2,
      fps: 30,
      logger: logger as never,
    });
    const got = frames(source, 1);
    setTimeout(() => {
      publish(image(3, 2, 'rgb8', () => 0)); // wrong size
      publish(image(2, 2, 'mono16', () => 0)); // unsupported
      publish(image(2, 2, 'bgr8', (i) => (i % 8 < 6 ? [1, 2, 3][(i % 8) % 3]! : 99), 8)); // padded rows
    }, 20);
    const [frame] = (await got) as [Frame];
    expect(Array.from(frame.data)).toEqual([3, 2, 1, 3, 2, 1, 3, 2, 1, 3, 2, 1]);
    expect(warnings[0]).toBe('image is 3×2, the source is 2×2');
  });

  it('CompressedImage (JPEG) is decoded by ffmpeg into RGBA frames', async () => {
    const jpeg = new Uint8Array(
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=64x48',
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-',
      ]),
    );
    const { transport, publish } = await camera('/cam/compressed', 'sensor_msgs/msg/CompressedImage');
    const source = rosImageSource(transport, {
      topic: '/cam/compressed',
      type: 'sensor_msgs/msg/CompressedImage',
      width: 64,
      height: 48,
      fps: 30,
    });
    open.push(source);
    const got = frames(source, 2);
    const timer = setInterval(() => publish(compressed('jpeg', jpeg)), 30);
    try {
      const [a, b] = (await got) as [Frame, Frame];
      expect(a).toMatchObject({ width: 64, height: 48, format: 'rgba' });
      expect(a.data.byteLength).toBe(64 * 48 * 4);
      expect(b.seq).toBe(a.seq + 1);
      expect(pixelStdDev(a.data, 4)).toBeGreaterThan(20); // the test picture, not a blank one
    } finally {
      clearInterval(timer);
    }
  });
});

/** A process's state and parent from /proc, or undefined once it is gone. */
function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running (a zombie waiting for its reaper counts as gone). */
const isAlive = (pid: number) => (procStat(pid)?.state ?? 'Z') !== 'Z';

/** A process's live children, with their command names. */
const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => ({ pid: Number(entry), stat: procStat(Number(entry)) }))
    .filter(({ pid: child, stat }) => stat?.ppid === pid && isAlive(child))
    .map(({ pid: child, stat }) => ({ pid: child, comm: stat!.comm }));

/**
 * Runs a Node process that decodes a compressed camera topic with `decoder` (ffmpeg, or a stand-in),
 * waits until the decoder runs (named `comm`), kills the process with SIGKILL and answers the
 * decoders still alive 2 s later.
 */
async function decodersLeftAfterKill(decoder: string, comm: string): Promise<number[]> {
  const src = (file: string) => JSON.stringify(new URL(`../src/${file}`, import.meta.url).href);
  const script = `
    import { execFileSync } from 'node:child_process';
    import { CdrWriter } from '@foxglove/cdr';
    const { createRosTransport, rosImageSource } = await import(${src('index.ts')});
    const { fakeRcl } = await import(${src('testing/index.ts')});
    const jpeg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48',
      '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-']);
    const w = new CdrWriter();
    w.int32(1).uint32(0).string('camera').string('jpeg');
    w.uint8Array(new Uint8Array(jpeg), true);
    const rcl = fakeRcl();
    const transport = await createRosTransport({ rcl, mappings: [] });
    const publisher = rcl.node('driver').createPublisher('sensor_msgs/msg/CompressedImage', '/cam');
    const source = rosImageSource(transport, { topic: '/cam', type: 'sensor_msgs/msg/CompressedImage',
      width: 64, height: 48, fps: 30, ffmpeg: ${JSON.stringify(decoder)} });
    source.frames$.subscribe(() => undefined);
    setInterval(() => publisher.publish(w.data), 30);
  `;
  const parent = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  try {
    let decoders: number[] = [];
    for (let end = Date.now() + 30_000; Date.now() < end && decoders.length === 0; ) {
      await new Promise((r) => setTimeout(r, 50));
      decoders = childrenOf(parent.pid!).flatMap((c) => (c.comm === comm ? [c.pid] : []));
    }
    expect(decoders).toHaveLength(1);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    for (let end = Date.now() + 2_000; Date.now() < end && decoders.some(isAlive); )
      await new Promise((r) => setTimeout(r, 25));
    return decoders.filter(isAlive);
  } finally {
    parent.kill('SIGKILL');
  }
}

describe.skipIf(!canTieChildToParent())('the image decoder’s lifetime', () => {
  // A decoder outliving its app keeps CPU and pipes for nothing. ffmpeg usually ends when its stdin
  // closes; the kernel's parent-death signal makes it certain, stuck or not.
  it('ffmpeg is gone 2 s after the process that started it is killed with SIGKILL', {
    timeout: 60_000,
  }, async () => {
    expect(await decodersLeftAfterKill('ffmpeg', 'ffmpeg')).toEqual([]);
  });

  it('so is a decoder that ignores its closed pipes (a stand-in that only sleeps)', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telekit-decoder-'));
    const standIn = join(dir, 'stuck-decoder');
    writeFileSync(standIn, '#!/bin/sh\nexec sleep 300\n', { mode: 0o755 });
    try {
      expect(await decodersLeftAfterKill(standIn, 'sleep')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeMediaSource('ROS image topic (rgb8, test double camera at 30 fps)', async () => {
  const { transport, publish } = await camera('/camera/image_raw', 'sensor_msgs/msg/Image');
  let n = 0;
  const timer = setInterval(() => publish(image(32, 24, 'rgb8', (i) => (i + n++) % 256)), 33);
  const source = rosImageSource(transport, { topic: '/camera/image_raw', width: 32, height: 24, fps: 30 });
  return {
    ...source,
    name: source.name,
    info: source.info,
    frames$: source.frames$,
    async close() {
      clearInterval(timer);
      await source.close();
      await transport.close();
    },
  } satisfies MediaSource;
});
