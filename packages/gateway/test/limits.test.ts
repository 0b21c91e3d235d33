import { Topics } from '@telekit/core';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SOCKETS, type WireError } from '../src/client/index.js';
import { startGateway } from './helpers.js';
import { drive, recordingRobot } from './robot.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe('limits', () => {
  it('rate limit: a flood is cut at the bucket, with a clear error, and the client keeps working', async () => {
    const g = await startGateway({ rateLimit: { commands: { rate: 50, burst: 20 } }, deadmanMs: 60_000 });
    cleanup.push(() => g.close());
    const robot = recordingRobot(g.app);
    const c = g.client();
    const faults: WireError[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    await c.connect();
    await c.requestControl();
    for (let i = 0; i < 200; i++) c.publish(Topics.twist, drive(0.1 + i / 1000));
    // Every refusal is counted; only the first ones of a second are answered (refused traffic
    // must not cost the gateway a reply each).
    const refused = async () =>
      Number(
        /reason="rate"} (\d+)/.exec(
          await g.gateway.metrics.registry.getSingleMetricAsString('telekit_refused_total'),
        )?.[1] ?? 0,
      );
    await vi.waitFor(async () => expect(await refused()).toBeGreaterThanOrEqual(150));
    // The answers travel after the counting: wait for them, not for a moment.
    await vi.waitFor(() => expect(faults.some((f) => f.code === 'E_RATE_LIMITED')).toBe(true));
    const answered = faults.filter((f) => f.code === 'E_RATE_LIMITED');
    // At most 20 answered a second; the flood may straddle two of the limiter's one-second windows.
    expect(answered.length).toBeLessThanOrEqual(40);
    expect(answered[0]?.message).toBe('too many messages: the limit is 50/s (burst 20)');
    // The bucket refills: a second later commands pass again.
    await new Promise((r) => setTimeout(r, 1_000));
    c.publish(Topics.twist, drive(0.9));
    await vi.waitFor(() => expect(robot.last()?.linear.x).toBe(0.9));
    expect(await refused()).toBeLessThanOrEqual(200);
  });

  it('oversized messages are refused with their size and the limit, and the link stays up', async () => {
    const g = await startGateway({ maxPayloadBytes: 4_096 });
    cleanup.push(() => g.close());
    const c = g.client();
    const faults: WireError[] = [];
    c.faults$.subscribe((f) => faults.push(f));
    await c.connect();
    await c.requestControl();
    const names = Array.from({ length: 200 }, (_, i) => `joint_${'x'.repeat(40)}_${i}`);
    c.publish(Topics.joints, { header: drive(0).header, name: names, position: names.map(() => 0) });
    await vi.waitFor(() => expect(faults.map((f) => f.code)).toContain('E_PAYLOAD_TOO_LARGE'));
    expect(faults[0]?.message).toMatch(/^message of \d+ bytes exceeds the limit of 4096 bytes$/);
    const robot = recordingRobot(g.app);
    c.publish(Topics.twist, drive(0.3));
    await vi.waitFor(() => expect(robot.last()?.linear.x).toBe(0.3));
  });

  it('a slow client loses old telemetry, never stalls the publisher or a fast client', async () => {
    const g = await startGateway();
    cleanup.push(() => g.close());
    const fast = g.client();
    const slow = g.client();
    await Promise.all([fast.connect(), slow.connect()]);
    const fastGot: number[] = [];
    fast.subscribe(Topics.battery, { depth: 1024 }).subscribe((m) => fastGot.push(m.header.seq));
    const slowGot: number[] = [];
    slow.subscribe(Topics.battery, { depth: 8 }).subscribe((m) => slowGot.push(m.header.seq));
    await new Promise((r) => setTimeout(r, 100));
    // The slow client stops reading its telemetry socket, as a stalled browser tab or a saturated
    // link would: the kernel buffers fill and the gateway sees it as backpressure.
    slow.subscribe(Topics.diagnostics, { depth: 8 }).subscribe();
    await new Promise((r) => setTimeout(r, 100));
    const sockets = (slow as unknown as Record<symbol, Record<'telemetry', Socket>>)[SOCKETS]!;
    const engine = sockets.telemetry.io.engine as unknown as {
      transport: { ws: { _socket: { pause(): void; resume(): void } } };
    };
    engine.transport.ws._socket.pause();
    const note = 'x'.repeat(1_000);
    for (let i = 0; i < 3_000; i++) {
      g.app.publish(Topics.diagnostics, {
        header: { seq: i, stamp: Date.now(), sender: 'robot' },
        status: [1, 2, 3, 4].map((n) => ({ name: `load ${n}`, level: 'ok' as const, message: note })),
      });
      g.app.publish(Topics.battery, {
        header: { seq: i, stamp: Date.now(), sender: 'robot' },
        percentage: 0.5,
        voltage: 24,
        charging: false,
      });
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    // The fast client is not held back by the slow one: it has the newest sample while the slow one
    // is stalled. (It gets every one on a quiet machine; on a starved one its own socket may lag too,
    // and its keep-last mailbox of 1 024 then drops some — in order, never the newest.)
    await vi.waitFor(() => expect(fastGot.at(-1)).toBe(2_999), { timeout: 30_000 });
    expect(fastGot.every((seq, i) => i === 0 || seq > fastGot[i - 1]!)).toBe(true);
    engine.transport.ws._socket.resume();
    // Once it reads again it catches up to the newest sample, having lost the ones in between.
    await vi.waitFor(() => expect(slowGot.at(-1)).toBe(2_999), { timeout: 30_000 });
    expect(slowGot.length).toBeLessThan(3_000);
    expect(fastGot.length).toBeGreaterThan(slowGot.length * 4);
    expect(await g.gateway.metrics.registry.getSingleMetricAsString('telekit_dropped_total')).toMatch(
      /lane="telemetry",reason="lagging"} [1-9]/,
    );
  });
});
