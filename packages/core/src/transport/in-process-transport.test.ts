import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { exampleMessages } from '../schemas/examples.js';
import { Topics } from '../schemas/topics.js';
import { Encoded } from './encoded.js';
import { createInProcessBus, inProcessTransport } from './in-process-transport.js';

// The conformance kit runs against this transport in @telekit/testkit; these are the exact
// semantics of the in-process implementation that the kit leaves open.

const tick = () => new Promise((r) => setTimeout(r, 0));
const battery = (seq: number) => ({
  ...exampleMessages.battery,
  header: { ...exampleMessages.battery.header, seq },
});

describe('inProcessTransport', () => {
  it('delivers asynchronously: publish never runs subscriber code', async () => {
    const t = inProcessTransport();
    const got: number[] = [];
    t.subscribe(Topics.battery).subscribe((m) => got.push(m.header.seq));
    t.publish(Topics.battery, battery(1));
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual([1]);
    await t.close();
  });

  it('coalesces a synchronous burst: control delivers the last, telemetry the last N', async () => {
    const clock = manualClock(exampleMessages.twist.header.stamp);
    const bus = createInProcessBus({ clock });
    const t = inProcessTransport({ bus });
    const control = t.subscribe(Topics.twist);
    const telemetry = t.subscribe(Topics.battery, { depth: 3 });
    const c: number[] = [];
    const m: number[] = [];
    control.subscribe((x) => c.push(x.header.seq));
    telemetry.subscribe((x) => m.push(x.header.seq));
    for (let i = 0; i < 10; i++) {
      t.publish(Topics.twist, {
        ...exampleMessages.twist,
        header: { ...exampleMessages.twist.header, seq: i },
      });
      t.publish(Topics.battery, battery(i));
    }
    await tick();
    expect(c).toEqual([9]);
    expect(m).toEqual([7, 8, 9]);
    expect(control.stats()).toEqual({
      received: 10,
      delivered: 1,
      dropped: 0,
      superseded: 9,
      stale: 0,
      pending: 0,
      refused: 0,
      duplicates: 0,
    });
    expect(telemetry.stats()).toEqual({
      received: 10,
      delivered: 3,
      dropped: 7,
      superseded: 0,
      stale: 0,
      pending: 0,
      refused: 0,
      duplicates: 0,
    });
    await t.close();
  });

  it('checks the deadline at delivery with the bus clock', async () => {
    const clock = manualClock(10_000);
    const t = inProcessTransport({ bus: createInProcessBus({ clock, schedule: (f) => setTimeout(f, 0) }) });
    const feed = t.subscribe(Topics.twist);
    const got: number[] = [];
    feed.subscribe((x) => got.push(x.header.seq));
    t.publish(Topics.twist, {
      ...exampleMessages.twist,
      header: { seq: 1, stamp: 10_000, sender: 'a', ttl: 100 },
    });
    clock.advance(150); // the link (here: the scheduler) took too long
    await tick();
    expect(got).toEqual([]);
    expect(feed.stats().stale).toBe(1);
    await t.close();
  });

  it('peers on one bus see each other; closing one leaves the other working', async () => {
    const bus = createInProcessBus();
    const a = inProcessTransport({ bus, name: 'a' });
    const b = inProcessTransport({ bus, name: 'b' });
    const got: string[] = [];
    a.subscribe(Topics.battery).subscribe(() => got.push('a'));
    b.subscribe(Topics.battery).subscribe(() => got.push('b'));
    expect(bus.openMailboxes).toBe(2);
    a.publish(Topics.battery, battery(1));
    await tick();
    expect(got.sort()).toEqual(['a', 'b']);
    await a.close();
    expect(bus.openMailboxes).toBe(1);
    b.publish(Topics.battery, battery(2));
    await tick();
    expect(got).toEqual(['a', 'b', 'b']);
    await b.close();
    expect(bus.openMailboxes).toBe(0);
  });

  it('subscriptions to one feed share its mailbox; the last unsubscribe releases it', async () => {
    const bus = createInProcessBus();
    const t = inProcessTransport({ bus });
    const feed = t.subscribe(Topics.battery);
    const s1 = feed.subscribe();
    const s2 = feed.subscribe();
    expect(bus.openMailboxes).toBe(1);
    s1.unsubscribe();
    expect(bus.openMailboxes).toBe(1);
    s2.unsubscribe();
    expect(bus.openMailboxes).toBe(0);
    await t.close();
  });

  it('can skip validation for trusted hot paths', async () => {
    const t = inProcessTransport({ validate: false });
    expect(() => t.publish(Topics.battery, { nonsense: true } as never)).not.toThrow();
    const strict = inProcessTransport();
    expect(() => strict.publish(Topics.battery, { nonsense: true } as never)).toThrow(/header/);
    await t.close();
    await strict.close();
  });

  it('does not validate again what was validated at the boundary', async () => {
    const { checkMessage, isValidated } = await import('../schemas/validate.js');
    const checked = checkMessage(Topics.battery, battery(1));
    expect(checked.ok && isValidated(checked.value)).toBe(true);
    expect(isValidated(battery(1))).toBe(false);
  });

  it('live$: a feed is live while it has a subscriber; on an acknowledging bus, once the transport says so', async () => {
    const lives: boolean[] = [];
    const local = inProcessTransport();
    const feed = local.subscribe(Topics.battery);
    feed.live$.subscribe((v) => lives.push(v));
    const sub = feed.subscribe();
    sub.unsubscribe();
    expect(lives).toEqual([false, true, false]);

    const bus = createInProcessBus({ liveness: 'acknowledged' });
    const remote = inProcessTransport({ bus });
    const acked: boolean[] = [];
    const twist = remote.subscribe(Topics.twist);
    twist.live$.subscribe((v) => acked.push(v));
    twist.subscribe();
    expect(acked).toEqual([false]);
    bus.setLive(Topics.twist, true);
    bus.setLive(Topics.twist, false);
    bus.setLive(Topics.twist, true);
    await remote.close();
    expect(acked).toEqual([false, true, false, true, false]);
  });

  it('counts refusals and duplicates in the open feeds of the topic, outside received', () => {
    const bus = createInProcessBus();
    const t = inProcessTransport({ bus });
    const a = t.subscribe(Topics.battery);
    const b = t.subscribe(Topics.battery);
    a.subscribe();
    b.subscribe();
    bus.refused(Topics.battery);
    bus.duplicated(Topics.battery);
    bus.refused(Topics.twist);
    for (const feed of [a, b]) expect(feed.stats()).toMatchObject({ received: 0, refused: 1, duplicates: 1 });
  });

  it('decodes an injected Encoded sample once when delivered, and never one a newer sample replaced', async () => {
    const bus = createInProcessBus();
    const t = inProcessTransport({ bus, validate: false });
    const a: number[] = [];
    const b: number[] = [];
    t.subscribe(Topics.battery, { depth: 2 }).subscribe((m) => a.push(m.header.seq));
    t.subscribe(Topics.battery, { depth: 2 }).subscribe((m) => b.push(m.header.seq));
    const decoded: number[] = [];
    const encoded = (seq: number) =>
      new Encoded(() => {
        decoded.push(seq);
        // seq 4 could not be used: its reader reports why, and nothing is delivered.
        return seq === 4 ? undefined : battery(seq);
      });
    for (let seq = 1; seq <= 4; seq++) bus.inject(Topics.battery, encoded(seq));
    await tick();
    expect(decoded).toEqual([3, 4]);
    expect([a, b]).toEqual([[3], [3]]);
    await t.close();
  });
});
