import { inProcessTransport, Topics } from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startGateway } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('telemetry is validated once, at the gateway', () => {
  it('an app transport that does not validate: the gateway drops what fails, counts it, and clients get the rest', async () => {
    const g = await startGateway({ transport: inProcessTransport({ validate: false }) });
    cleanup.push(() => g.close());
    const c = g.client();
    await c.connect();
    const got: number[] = [];
    c.subscribe(Topics.battery).subscribe((b) => got.push(b.percentage));
    // Wait until the subscription is live: a valid sample arrives.
    await vi.waitFor(
      () => {
        g.app.publish(Topics.battery, { ...exampleMessages.battery, percentage: 0.5 });
        expect(got).toContain(0.5);
      },
      { timeout: 20_000, interval: 100 },
    );
    g.app.publish(Topics.battery, { ...exampleMessages.battery, percentage: 'full' } as never);
    g.app.publish(Topics.battery, { ...exampleMessages.battery, percentage: 0.25 });
    await vi.waitFor(() => expect(got.at(-1)).toBe(0.25), { timeout: 20_000 });
    expect(got.every((p) => typeof p === 'number')).toBe(true);
    const dropped = await g.gateway.metrics.registry.getSingleMetricAsString('telekit_dropped_total');
    expect(dropped).toMatch(/lane="telemetry",reason="invalid"} 1$/m);
  });
});
