import { actuationReport, headerSequence, Topics, type Twist } from '@telekit/core';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_STAGES } from '../src/client/index.js';
import { startGateway } from './helpers.js';
import { drive } from './robot.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the latency budget', () => {
  it('times every stage of each command, from the input the page stamped to the report, in link health and /metrics', async () => {
    const g = await startGateway({ deadmanMs: 60_000 });
    cleanup.push(() => g.close());
    // A robot that says when each command reached it, and applies it 2 ms later (its "step").
    const seen: Twist[] = [];
    const next = headerSequence('robot', now);
    const sub = g.app.subscribe(Topics.twist).subscribe((t) => {
      seen.push(t);
      const receivedAt = now();
      setTimeout(
        () =>
          g.app.publish(Topics.actuation, {
            ...actuationReport(Topics.twist, t.header, next(), Math.max(now(), receivedAt + 2)),
            receivedAt,
          }),
        2,
      );
    });
    cleanup.push(async () => sub.unsubscribe());
    const c = g.client({ probeIntervalMs: 200 });
    await c.connect();
    await c.requestControl();
    const sent: { inputAt?: number; sentAt: number }[] = [];
    c.sent$.subscribe((x) => sent.push(x));
    for (let i = 0; i < 12; i++) {
      // The page took 5 ms between the key press and the send. Stamped in the past rather than
      // slept for: a timer may fire a fraction of a millisecond early by the monotonic clock.
      c.publish(Topics.twist, drive(0.2), { inputAt: now() - 5 });
      await sleep(15);
    }
    await vi.waitFor(() => expect(seen).toHaveLength(12));
    // The input's stamp is the gateway's to read: it never reaches the app.
    expect(Object.keys(seen[0]!.header).sort()).toEqual(['sender', 'seq', 'stamp', 'ttl']);
    const health = await firstValueFrom(
      c.health$.pipe(
        filter((h) => (h.budget.inputToActuation?.count ?? 0) >= 12),
        timeout(5_000),
      ),
    );
    const b = health.budget;
    expect(b.stages.map((s) => s.stage)).toEqual([...COMMAND_STAGES]);
    for (const s of b.stages) {
      expect(s.count).toBe(12);
      expect(s.p50).toBeGreaterThanOrEqual(0);
      expect(s.p99).toBeGreaterThanOrEqual(s.p50);
    }
    const stage = (name: string) => b.stages.find((s) => s.stage === name)!;
    // The page's own delay is what it said (give or take the header stamp's rounding); the robot's
    // wait for its step is what it said.
    expect(stage('input').p50).toBeGreaterThanOrEqual(4);
    expect(stage('apply').p50).toBeGreaterThanOrEqual(1);
    // Input→actuation covers the stages up to the step (report is the way back).
    expect(b.inputToActuation!.p50).toBeGreaterThanOrEqual(stage('input').p50);
    expect(health.inputToActuation).toEqual(b.inputToActuation);
    expect(b.fates).toEqual({ applied: 12 });
    expect(health.commandsSent).toBe(12);
    // The page sees its own input → send delay at once, per command.
    expect(sent).toHaveLength(12);
    for (const x of sent) expect(x.sentAt - x.inputAt!).toBeGreaterThanOrEqual(5);
    const metrics = await g.gateway.metrics.registry.metrics();
    for (const s of COMMAND_STAGES)
      expect(metrics).toMatch(new RegExp(`telekit_command_stage_seconds_count\\{stage="${s}"\\} 12`));
  });

  it('a client that stamps no input, or nonsense, still drives; its budget starts at the send', async () => {
    const g = await startGateway({ deadmanMs: 60_000 });
    cleanup.push(() => g.close());
    const next = headerSequence('robot', now);
    const sub = g.app
      .subscribe(Topics.twist)
      .subscribe((t) =>
        g.app.publish(Topics.actuation, actuationReport(Topics.twist, t.header, next(), now())),
      );
    cleanup.push(async () => sub.unsubscribe());
    const c = g.client({ probeIntervalMs: 200 });
    await c.connect();
    await c.requestControl();
    c.publish(Topics.twist, drive(0.1));
    await sleep(20);
    c.publish(Topics.twist, drive(0.1), { inputAt: Number.NaN });
    await sleep(20);
    c.publish(Topics.twist, drive(0.1), { inputAt: now() + 60_000 }); // after the send: not believed
    const health = await firstValueFrom(
      c.health$.pipe(
        filter((h) => (h.budget.fates.applied ?? 0) >= 3),
        timeout(5_000),
      ),
    );
    expect(health.budget.stages.map((s) => s.stage)).toEqual(['network', 'gate', 'report']);
    expect(health.budget.inputToActuation?.count).toBe(3);
  });
});
