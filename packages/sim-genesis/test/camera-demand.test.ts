import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '@telekit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cameraSource, type FrameTiming, type SidecarSimulator, sidecarSimulator } from '../src/index.js';
import { sleep } from './helpers.js';

// The camera renders only while someone wants it: off, the sidecar renders nothing; on with a TCP
// sink, it renders only once the sink listens, and its first frame goes out as soon as it connects.
const W = 160;
const H = 120;
const FRAME = W * H * 3;

let sim: SidecarSimulator;
beforeAll(async () => {
  sim = sidecarSimulator({ logger: silentLogger, perfEveryMs: 200 });
  await sim.loadScene({ id: 'diff-drive' });
  await sim.run({ stateHz: 10 });
}, 30_000);
afterAll(() => sim?.close());

/** The sidecar's counters, from a sample taken after this call. */
async function perf() {
  const before = sim.perf?.at ?? 0;
  await vi.waitFor(() => expect(sim.perf?.at ?? 0).toBeGreaterThan(before), { timeout: 5_000, interval: 50 });
  return sim.perf!;
}

/** A TCP sink that counts what arrives (an encoder's input, without the encoder). */
async function sink(
  port = 0,
): Promise<{ port: number; bytes: () => number; server: Server; sockets: Socket[] }> {
  let bytes = 0;
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => {
      bytes += d.byteLength;
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, bytes: () => bytes, server, sockets };
}

describe('the camera on demand', () => {
  it('off, nothing renders; sendTo turns it on, its stop turns it off again', {
    timeout: 30_000,
  }, async () => {
    const source = cameraSource(sim, 'sim-camera', { camera: 'overview', width: W, height: H, fps: 20 });
    expect(source.info.format).toBe('rgb');
    const idle = await perf();
    await sleep(600);
    expect((await perf()).camera).toMatchObject({ on: false, rendered: idle.camera.rendered });

    const s = await sink();
    const timings: FrameTiming[] = [];
    const sub = source.timings$.subscribe((t) => timings.push(t));
    const stop = await source.sendTo!(`tcp:127.0.0.1:${s.port}`);
    await vi.waitFor(() => expect(s.bytes()).toBeGreaterThanOrEqual(10 * FRAME), { timeout: 10_000 });
    const on = await perf();
    expect(on.camera.on).toBe(true);
    expect(on.camera.rendered).toBeGreaterThan(idle.camera.rendered);
    // Whole RGB frames, back to back; each one's timings in order on one connection from index 0.
    await vi.waitFor(() => expect(timings.length).toBeGreaterThan(5), { timeout: 5_000 });
    expect(timings[0]!.index).toBe(0);
    for (const [i, t] of timings.entries()) {
      expect(t.index).toBe(i);
      expect(t.readyAt).toBeGreaterThanOrEqual(t.capturedAt);
      expect(t.sentAt).toBeGreaterThanOrEqual(t.readyAt);
    }

    await stop();
    const stopped = await perf();
    expect(stopped.camera.on).toBe(false);
    await sleep(600);
    expect((await perf()).camera.rendered).toBe(stopped.camera.rendered);
    // The sidecar closed its end of the connection.
    await vi.waitFor(() => expect(s.sockets.every((x) => x.readableEnded || x.destroyed)).toBe(true), {
      timeout: 5_000,
    });
    sub.unsubscribe();
    s.server.close();
  });

  it('with a sink that does not listen yet, it renders nothing until it can send', {
    timeout: 30_000,
  }, async () => {
    const probe = await sink();
    const port = probe.port;
    await new Promise((r) => probe.server.close(r));
    const source = cameraSource(sim, 'sim-camera', { camera: 'overview', width: W, height: H, fps: 20 });
    const stop = await source.sendTo!(`tcp:127.0.0.1:${port}`);
    const waiting = await perf();
    await sleep(600);
    // Nothing renders while the sink does not listen (the frame that checked the camera came before).
    expect((await perf()).camera.rendered - waiting.camera.rendered).toBe(0);
    const s = await sink(port);
    await vi.waitFor(() => expect(s.bytes()).toBeGreaterThanOrEqual(FRAME), { timeout: 5_000, interval: 10 });
    await stop();
    s.server.close();
  });

  it('reports its CPU by part, in cores', { timeout: 20_000 }, async () => {
    const first = await perf();
    const p = await perf();
    for (const part of ['physics', 'render', 'loop', 'other', 'total'] as const) {
      expect(p.cpu[part]).toBeGreaterThanOrEqual(0);
      expect(p.cpu[part]).toBeLessThan(4);
    }
    // The total comes from the kernel's per-process ticks (10 ms each), physics from the main
    // thread's own clock: over a short span they may disagree by a tick or two, in cores.
    const ticks = 0.02 / Math.max(0.001, (p.at - first.at) / 1000);
    expect(p.cpu.total + ticks).toBeGreaterThanOrEqual(p.cpu.physics);
    const health = sim.health();
    expect(health.data.cpu).toEqual(sim.perf!.cpu);
    expect(health.data.camera?.on).toBe(false);
  });
});
