import { DEFAULT_TTL_MS } from '@telekit/core';
import { describe, expect, it } from 'vitest';
import { formatSoak, runSoak } from './soak.js';

// The soak (`pnpm soak`: 100 clients for 10 minutes) for 60 seconds: the demo app in a process of
// its own, an operator driving at 20 Hz and 99 viewers watching every telemetry topic.
describe('soak: 100 clients for 60 s', () => {
  it('no crash, no restart, memory flat, no command applied past its deadline', {
    timeout: 300_000,
  }, async () => {
    const report = await runSoak({ clients: 100, seconds: 60 }, (line) => console.log(line));
    console.log(formatSoak(report));
    expect(report.alive).toBe(true);
    expect(report.sidecarRestarts).toBe(0);
    expect(report.connected).toBe(100);
    expect(report.commands.fates.applied ?? 0).toBeGreaterThan(0);
    expect(report.telemetrySamples).toBeGreaterThan(0);
    // Counted from outside and by the sidecar itself.
    expect(report.appliedLate).toBe(0);
    expect(report.sidecarOldestAppliedMs).toBeLessThanOrEqual(DEFAULT_TTL_MS);
    // Flat: a minute of a hundred clients leaves no lasting growth worth the name.
    expect(report.memory.app[1] - report.memory.app[0]).toBeLessThan(100);
    expect(report.memory.sidecar[1] - report.memory.sidecar[0]).toBeLessThan(50);
  });
});
