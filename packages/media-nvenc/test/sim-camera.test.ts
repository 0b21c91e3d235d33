import { createServer } from 'node:net';
import { silentLogger } from '@telekit/core';
import { sidecarSimulator } from '@telekit/sim-genesis';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chooseEncoder, createSfu, createWorker, SupervisedEncoder } from '../src/index.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

let worker: types.Worker;
beforeAll(async () => {
  worker = await createWorker();
});
afterAll(() => worker?.close());

describe('the simulator camera straight into the encoder', () => {
  it('the sidecar writes raw RGBA to the encoder over TCP, never through Node, and picks up a restarted encoder', {
    timeout: 60_000,
  }, async () => {
    const sfu = await createSfu({ worker });
    const stream = await sfu.addStream('sim-camera');
    const port = await freePort();
    const { encoder } = await chooseEncoder('auto');
    const enc = new SupervisedEncoder({
      encoder,
      profile: { width: 320, height: 240, fps: 20, bitrateKbps: 500, gopSeconds: 1 },
      input: { kind: 'tcp', port },
      rtp: { ...stream.ingest },
      logger: silentLogger,
    });
    const sim = sidecarSimulator({ logger: silentLogger });
    const bytes = async () => (await stream.producer.getStats())[0]?.byteCount ?? 0;
    try {
      await sim.loadScene({ id: 'diff-drive' });
      await sim.camera({
        camera: 'overview',
        width: 320,
        height: 240,
        fps: 20,
        sink: `tcp:127.0.0.1:${port}`,
      });
      await sim.run({ stateHz: 5 });
      let frames = 0;
      const sub = sim.frames$.subscribe(() => frames++);
      await vi.waitFor(async () => expect(await bytes()).toBeGreaterThan(5_000), {
        timeout: 20_000,
        interval: 250,
      });
      // Nothing came through Node: the frames went to the encoder.
      expect(frames).toBe(0);
      sub.unsubscribe();
      enc.process!.kill('SIGKILL');
      const before = await bytes();
      await vi.waitFor(async () => expect(await bytes()).toBeGreaterThan(before + 5_000), {
        timeout: 20_000,
        interval: 250,
      });
    } finally {
      await sim.close();
      await enc.close();
      sfu.close();
    }
  });
});
