import { fileURLToPath } from 'node:url';
import { Topics } from '@telekit/core';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startGateway } from './helpers.js';
import { drive, recordingRobot } from './robot.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe('link health, latency and reconnect', () => {
  it('each client gets its clock offset, round trip and its own input→actuation figures', async () => {
    const g = await startGateway({ deadmanMs: 60_000 });
    cleanup.push(() => g.close());
    const robot = recordingRobot(g.app);
    const c = g.client({ probeIntervalMs: 200 });
    await c.connect();
    await c.requestControl();
    const est = c.estimate!;
    // Same machine, same clock: the offset is within the probe's own uncertainty.
    expect(Math.abs(est.offset)).toBeLessThanOrEqual(est.uncertainty + 1);
    for (let i = 0; i < 10; i++) {
      c.publish(Topics.twist, drive(0.2));
      await new Promise((r) => setTimeout(r, 20));
    }
    await vi.waitFor(() => expect(robot.moving()).toHaveLength(10));
    const health = await firstValueFrom(
      c.health$.pipe(
        filter((h) => (h.inputToActuation?.count ?? 0) >= 10),
        timeout(5_000),
      ),
    );
    // Round trips as the gateway measured them from the probes (p50 and p99, so congestion shows),
    // and the offset the gateway bounded itself: same machine, so near zero.
    expect(health.rtt!.p50).toBeGreaterThanOrEqual(0);
    expect(health.rtt!.p99).toBeGreaterThanOrEqual(health.rtt!.p50);
    expect(Math.abs(health.offset!)).toBeLessThanOrEqual(health.rtt!.p99 / 2 + 1);
    expect(health.fates.applied).toBe(10);
    expect(health.inputToActuation!.p50).toBeGreaterThanOrEqual(0);
    expect(health.inputToActuation!.p99).toBeGreaterThanOrEqual(health.inputToActuation!.p50);
    expect(health.lease).toEqual({ id: c.clientId, name: 'anonymous', role: 'operator' });
    expect(health.drops).toEqual({ telemetry: 0, control: 0 });
    const metrics = await g.gateway.metrics.registry.metrics();
    expect(metrics).toMatch(/telekit_input_to_actuation_seconds_count 10/);
    expect(metrics).toMatch(/telekit_link_rtt_seconds_count [1-9]/);
  });

  it('after a reconnect the client resubscribes and takes back the lease it held', async () => {
    const g = await startGateway();
    cleanup.push(() => g.close());
    const c = g.client();
    await c.connect();
    await c.requestControl();
    const got: number[] = [];
    c.subscribe(Topics.battery).subscribe((m) => got.push(m.header.seq));
    g.gateway.dropConnections();
    await firstValueFrom(c.state$.pipe(filter((s) => s.status === 'reconnecting')));
    await firstValueFrom(c.state$.pipe(filter((s) => s.status === 'connected')));
    await vi.waitFor(() => expect(c.holdsControl).toBe(true));
    await vi.waitFor(() => {
      g.app.publish(Topics.battery, {
        header: { seq: 5, stamp: Date.now(), sender: 'robot' },
        percentage: 1,
        voltage: 24,
        charging: false,
      });
      expect(got).toContain(5);
    });
  });

  it('…but not a lease someone else took meanwhile', async () => {
    const g = await startGateway();
    cleanup.push(() => g.close());
    const alice = g.client({ reconnectDelayMs: 1_000, reconnectDelayMaxMs: 1_000 });
    const bob = g.client();
    await Promise.all([alice.connect(), bob.connect()]);
    await alice.requestControl();
    const free = firstValueFrom(bob.lease$.pipe(filter((h) => h === null)));
    g.gateway.dropConnections(alice.clientId);
    await free;
    expect(await bob.requestControl()).toMatchObject({ granted: true });
    await firstValueFrom(alice.state$.pipe(filter((s) => s.status === 'reconnecting')));
    await firstValueFrom(alice.state$.pipe(filter((s) => s.status === 'connected')));
    await new Promise((r) => setTimeout(r, 200));
    expect(alice.holdsControl).toBe(false);
    expect(bob.holdsControl).toBe(true);
  });

  it('while the link is down, commands are dropped (never queued) and the app is told', async () => {
    const g = await startGateway();
    cleanup.push(() => g.close());
    const robot = recordingRobot(g.app);
    const c = g.client({ reconnectDelayMs: 2_000, reconnectDelayMaxMs: 2_000 });
    await c.connect();
    await c.requestControl();
    const faults: string[] = [];
    c.faults$.subscribe((f) => faults.push(f.code));
    g.gateway.dropConnections();
    await firstValueFrom(c.state$.pipe(filter((s) => s.status === 'reconnecting')));
    await new Promise((r) => setTimeout(r, 100)); // both lanes' sockets are down by now
    c.publish(Topics.twist, drive(1));
    expect(faults).toEqual(['E_NOT_CONNECTED']);
    await firstValueFrom(c.state$.pipe(filter((s) => s.status === 'connected')));
    await new Promise((r) => setTimeout(r, 100));
    expect(robot.moving()).toEqual([]);
  });
});

describe('HTTP', () => {
  it('serves /healthz, /readyz from the app health, /metrics, and static files', async () => {
    let status: 'ok' | 'down' = 'ok';
    const g = await startGateway({
      staticDir: fileURLToPath(new URL('./fixtures/static', import.meta.url)),
      health: async () => ({ status, plugins: { sim: { status } } }),
    });
    cleanup.push(() => g.close());
    expect(await (await fetch(`${g.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${g.url}/readyz`)).status).toBe(200);
    status = 'down';
    const notReady = await fetch(`${g.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'down', plugins: { sim: { status: 'down' } } });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    for (const name of [
      'telekit_clients',
      'telekit_messages_total',
      'telekit_dropped_total',
      'telekit_input_to_actuation_seconds',
      'telekit_lease_held',
      'telekit_deadman_trips_total',
      'telekit_estops_total',
    ]) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    expect(await (await fetch(`${g.url}/index.html`)).text()).toContain('<p>hello</p>');
    expect((await fetch(`${g.url}/nope`)).status).toBe(404);
  });
});
