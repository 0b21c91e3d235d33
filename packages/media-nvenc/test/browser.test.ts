import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@telekit/core';
import { testPatternSource } from '@telekit/testkit/fakes';
import type { types } from 'mediasoup';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEncoder, createSfu, createWorker, type Sfu, SupervisedEncoder } from '../src/index.js';
import { BARS, barColours, framesShown, launchChromium, viewerServer } from './browser/harness.js';

const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));
const source = testPatternSource({ width: 320, height: 240, fps: 30, scroll: false });
let worker: types.Worker;
let sfu: Sfu;
let encoder: SupervisedEncoder;
let feeding: { unsubscribe(): void };
let server: import('node:http').Server;
let url = '';
let browser: Browser;

beforeAll(async () => {
  worker = await createWorker();
  sfu = await createSfu({ worker });
  const stream = await sfu.addStream('cam');
  const { encoder: name } = await chooseEncoder('auto');
  encoder = new SupervisedEncoder({
    encoder: name,
    profile: { width: 320, height: 240, fps: 30, bitrateKbps: 800, gopSeconds: 1 },
    input: { kind: 'stdin' },
    rtp: { ...stream.ingest },
    logger: silentLogger,
  });
  feeding = encoder.feed(source.frames$);
  sfu.followEncoder('cam', encoder.status$);
  ({ url, server } = await viewerServer(sfu));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  feeding?.unsubscribe();
  await source.close();
  await encoder?.close();
  sfu?.close();
  worker?.close();
});

describe('video to Chromium through mediasoup', () => {
  it('a viewer decodes the stream: the picture is the source pattern and every frame carries its stamp', {
    timeout: 60_000,
  }, async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const first = await framesShown(page, 20);
    expect(first.error).toBeUndefined();
    expect([first.width, first.height]).toEqual([320, 240]);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: `${results}media-viewer.png` });
    expect(await barColours(page)).toEqual(BARS);
    // Glass-to-glass: the stamps drawn by the source read back from the presented frames.
    expect(first.latencies.length).toBeGreaterThan(10);
    // A misread stamp would be far off (hours); a right one is the latency of a loopback stream.
    expect(Math.max(...first.latencies)).toBeLessThan(10_000);

    // A second viewer joins and gets a decodable frame; one encode for both.
    const second = await browser.newPage();
    await second.goto(url);
    const s = await framesShown(second, 5);
    expect(s.error).toBeUndefined();
    expect(s.firstFrameMs).toBeGreaterThan(0);
    expect(sfu.viewers('cam')).toBe(2);
    expect(encoder.status.restarts).toBe(0);
    await second.close();

    // The encoder dies: it is restarted and the same viewer, on the same transport, sees video again.
    const before = await page.evaluate(() => ({
      frames: window.telekitViewer.frames,
      transport: window.telekitViewer.transportId,
    }));
    // Twice: a new encoder starts its RTP sequence and timestamps afresh, lower or higher at random.
    encoder.process!.kill('SIGKILL');
    await framesShown(page, before.frames + 30);
    encoder.process!.kill('SIGKILL');
    const after = await framesShown(page, before.frames + 60);
    expect(after.error).toBeUndefined();
    expect(after.transportId).toBe(before.transport);
    expect(encoder.status).toMatchObject({ restarts: 2, running: true, lastExit: 'killed by SIGKILL' });
    expect(await barColours(page)).toEqual(BARS);
  });

  it('out-of-order or unknown signalling is refused, naming what is wrong', async () => {
    const t = await sfu.createViewerTransport();
    await expect(sfu.consume(t.id, 'no-such-stream', sfu.rtpCapabilities)).rejects.toThrow(
      'unknown stream [stream:no-such-stream]',
    );
    await expect(sfu.consume(t.id, 'cam', { codecs: [] })).rejects.toThrow(
      'the viewer cannot decode this stream',
    );
    await expect(sfu.consume('nope', 'cam', sfu.rtpCapabilities)).rejects.toThrow(
      'unknown transport [transport:nope]',
    );
    await expect(sfu.resume('nope')).rejects.toThrow('unknown consumer');
    sfu.closeTransport(t.id);
  });
});
