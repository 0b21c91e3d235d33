import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.js';

describe('GatewayMetrics', () => {
  it('adds the per-message tallies to their counters when scraped, cumulatively', async () => {
    const m = new GatewayMetrics();
    for (let i = 0; i < 3; i++) m.messageSeries.in.control.inc();
    m.messageSeries.out.telemetry.inc(5);
    m.countFate('applied');
    m.countFate('applied');
    m.countFate('expired');
    let text = await m.registry.metrics();
    expect(text).toMatch(/telekit_messages_total\{lane="control",direction="in"\} 3\n/);
    expect(text).toMatch(/telekit_messages_total\{lane="telemetry",direction="out"\} 5\n/);
    expect(text).toMatch(/telekit_command_fates_total\{fate="applied"\} 2\n/);
    expect(text).toMatch(/telekit_command_fates_total\{fate="expired"\} 1\n/);
    m.messageSeries.in.control.inc();
    text = await m.registry.metrics();
    // A second scrape adds only what came since the first.
    expect(text).toMatch(/telekit_messages_total\{lane="control",direction="in"\} 4\n/);
    expect(text).toMatch(/telekit_command_fates_total\{fate="applied"\} 2\n/);
  });
});
