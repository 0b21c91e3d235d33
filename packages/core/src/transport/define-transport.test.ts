import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { isTelekitError, TelekitError } from '../errors.js';
import { exampleMessages } from '../schemas/examples.js';
import { Topics } from '../schemas/topics.js';
import { jsonCodec, msgpackCodec } from './codec.js';
import {
  type DefinedTransport,
  type DefineTransportOptions,
  defineTransport,
  type Link,
  type LinkEvents,
} from './define-transport.js';
import type { ConnectionStatus, TransportFault } from './transport.js';

// describeTransport runs against defineTransport on a real broker in @telekit/transport-mqtt; these
// are the parts of defineTransport the kit cannot reach: give-up rules, kept telemetry, counters.

/** A broker in memory: topics by name, subscriptions acknowledged after `ackMs`. */
class Broker {
  up = true;
  refuse: Error | undefined;
  ackMs = 0;
  readonly clients = new Set<{ events: LinkEvents; topics: Set<string> }>();

  publish(topic: string, data: Uint8Array | string): void {
    for (const c of this.clients)
      if (c.topics.has(topic)) queueMicrotask(() => c.events.receive(topic, data));
  }

  restart(): void {
    const clients = [...this.clients];
    this.clients.clear();
    for (const c of clients) c.events.lost('broker restarted');
  }
}

function brokerLink(broker: Broker, failSend?: () => Error | undefined): Link & { closes: number } {
  let client: { events: LinkEvents; topics: Set<string> } | undefined;
  return {
    closes: 0,
    async connect(events) {
      if (broker.refuse) throw broker.refuse;
      if (!broker.up) throw new Error('connection refused');
      client = { events, topics: new Set() };
      broker.clients.add(client);
    },
    async send(frame) {
      const error = failSend?.();
      if (error) throw error;
      if (!client) throw new Error('not connected');
      broker.publish(frame.topic.name, frame.bytes);
    },
    async subscribe(topic) {
      client?.topics.add(topic.name);
      await new Promise((r) => setTimeout(r, broker.ackMs));
    },
    unsubscribe(topic) {
      client?.topics.delete(topic.name);
    },
    async close() {
      this.closes++;
      if (client) broker.clients.delete(client);
      client = undefined;
    },
  };
}

const open: DefinedTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});
function make(broker: Broker, options: Partial<DefineTransportOptions> = {}) {
  const link = brokerLink(broker);
  const t = defineTransport({ name: 'test', link, reconnect: { delayMs: 5, maxDelayMs: 20 }, ...options });
  open.push(t);
  const faults: TransportFault[] = [];
  const states: ConnectionStatus[] = [];
  t.faults$.subscribe((f) => faults.push(f));
  t.state$.subscribe((s) => states.push(s.status));
  return { t, link, faults, states };
}
const live = (feed: { live$: import('rxjs').Observable<boolean> }) =>
  firstValueFrom(feed.live$.pipe(filter(Boolean)));
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
};
const battery = (seq: number) => ({
  ...exampleMessages.battery,
  header: { ...exampleMessages.battery.header, seq },
});

describe('defineTransport', () => {
  it('starts idle, connects, and makes a feed live only once the link acknowledged it', async () => {
    const broker = new Broker();
    broker.ackMs = 30;
    const { t, states } = make(broker);
    expect(t.state.status).toBe('idle');
    await t.connect();
    expect(states).toEqual(['idle', 'connecting', 'connected']);
    const feed = t.subscribe(Topics.battery);
    const got: number[] = [];
    feed.subscribe((b) => got.push(b.header.seq));
    const lives: boolean[] = [];
    feed.live$.subscribe((v) => lives.push(v));
    expect(lives).toEqual([false]);
    await live(feed);
    t.publish(Topics.battery, battery(1));
    await until(() => got.length === 1);
    expect(t.linkStats()).toMatchObject({ connects: 1, sent: 1, received: 1 });
  });

  it('refuses undecodable and invalid frames, drops copies, and counts each in the feed and the link', async () => {
    const broker = new Broker();
    const { t, faults } = make(broker);
    await t.connect();
    const feed = t.subscribe(Topics.battery);
    const got: number[] = [];
    feed.subscribe((b) => got.push(b.header.seq));
    await live(feed);
    const name = Topics.battery.name;
    broker.publish(name, 'not json');
    broker.publish(name, jsonCodec.encode({ ...battery(1), voltage: 'high' }));
    broker.publish(name, jsonCodec.encode(battery(2)));
    broker.publish(name, jsonCodec.encode(battery(2)));
    broker.publish(name, jsonCodec.encode(battery(3)));
    await until(() => got.includes(3));
    expect(got).toEqual([2, 3]);
    expect(feed.stats()).toMatchObject({ received: 2, delivered: 2, refused: 2, duplicates: 1 });
    expect(t.linkStats()).toMatchObject({ received: 5, refused: 2, duplicates: 1 });
    expect(faults.map((f) => [f.code, f.field])).toEqual([
      ['E_PROTOCOL', undefined],
      ['E_VALIDATION', 'voltage'],
    ]);
    expect(faults[1]!.message).toMatch(/voltage/);
  });

  it('tells a restarted sender (same seq, another stamp) from a copy', async () => {
    const { t } = make(new Broker());
    await t.connect();
    const feed = t.subscribe(Topics.battery, { depth: 10 });
    const got: number[] = [];
    feed.subscribe((b) => got.push(b.header.stamp));
    await live(feed);
    const first = battery(0);
    t.publish(Topics.battery, first);
    t.publish(Topics.battery, { ...first, header: { ...first.header, stamp: first.header.stamp + 1 } });
    await until(() => got.length === 2);
    expect(feed.stats().duplicates).toBe(0);
  });

  it('while down: drops a command (reported), keeps the last telemetry sample and sends it once back', async () => {
    const broker = new Broker();
    const { t, faults, states } = make(broker);
    await t.connect();
    const feed = t.subscribe(Topics.battery);
    const got: number[] = [];
    feed.subscribe((b) => got.push(b.header.seq));
    await live(feed);
    broker.up = false;
    broker.restart();
    expect(t.state.status).toBe('reconnecting');
    t.publish(Topics.twist, exampleMessages.twist);
    t.publish(Topics.battery, battery(1));
    t.publish(Topics.battery, battery(2));
    expect(faults).toEqual([expect.objectContaining({ code: 'E_NOT_CONNECTED', topic: Topics.twist.name })]);
    expect(t.linkStats().unsent).toBe(1);
    broker.up = true;
    await until(() => got.length > 0);
    expect(got).toEqual([2]);
    expect(states.slice(-2)).toEqual(['reconnecting', 'connected']);
    expect(t.linkStats().connects).toBe(2);
  });

  it('re-subscribes after a reconnect: live$ goes false, then true again', async () => {
    const broker = new Broker();
    const { t } = make(broker);
    await t.connect();
    const feed = t.subscribe(Topics.twist);
    feed.subscribe();
    const lives: boolean[] = [];
    feed.live$.subscribe((v) => lives.push(v));
    await live(feed);
    broker.restart();
    await until(() => lives.length === 4);
    expect(lives).toEqual([false, true, false, true]);
    expect([...broker.clients][0]!.topics).toEqual(new Set([Topics.twist.name]));
  });

  it('gives up at once when the link refuses for good (E_AUTH): disconnected, connect() rejects with why', async () => {
    const broker = new Broker();
    broker.refuse = new TelekitError('E_AUTH', 'bad password');
    const { t, states } = make(broker);
    const error = await t.connect().catch((e: unknown) => e);
    expect(isTelekitError(error) && error.code).toBe('E_AUTH');
    expect((error as Error).message).toMatch(/bad password/);
    expect(states).toEqual(['idle', 'connecting', 'disconnected']);
    expect(t.state.reason).toMatch(/bad password/);
  });

  it('gives up after its attempts run out, and connect() tries again', async () => {
    const broker = new Broker();
    broker.up = false;
    const { t, states } = make(broker, { reconnect: { delayMs: 1, attempts: 3 } });
    await expect(t.connect()).rejects.toThrow(/connection refused/);
    expect(states.at(-1)).toBe('disconnected');
    broker.up = true;
    await t.connect();
    expect(states.slice(-2)).toEqual(['connecting', 'connected']);
  });

  it('connect() rejects with E_TIMEOUT after connectTimeoutMs, and the transport goes on trying', async () => {
    const broker = new Broker();
    broker.up = false;
    const { t } = make(broker, { connectTimeoutMs: 20 });
    const error = await t.connect().catch((e: unknown) => e);
    expect(isTelekitError(error) && error.code).toBe('E_TIMEOUT');
    expect(t.state.status).toBe('connecting');
    broker.up = true;
    await firstValueFrom(t.state$.pipe(filter((s) => s.status === 'connected')));
  });

  it("reports a failed send on faults$ with the link's code, counted", async () => {
    let error: Error | undefined;
    const link = brokerLink(new Broker(), () => error);
    const t = defineTransport({ name: 'test', link });
    open.push(t);
    const faults: TransportFault[] = [];
    t.faults$.subscribe((f) => faults.push(f));
    await t.connect();
    error = new TelekitError('E_FORBIDDEN', 'not allowed to publish');
    t.publish(Topics.twist, exampleMessages.twist);
    error = new Error('socket hang up');
    t.publish(Topics.twist, exampleMessages.twist);
    await until(() => faults.length === 2);
    expect(faults.map((f) => f.code)).toEqual(['E_FORBIDDEN', 'E_NOT_CONNECTED']);
    expect(t.linkStats()).toMatchObject({ sent: 2, failed: 2 });
  });

  it('encodes with the codec chosen: MessagePack bytes on the link', async () => {
    const broker = new Broker();
    const { t } = make(broker, { codec: 'msgpack' });
    await t.connect();
    const seen: (Uint8Array | string)[] = [];
    broker.clients.add({
      events: { receive: (_, data) => seen.push(data), lost() {} },
      topics: new Set([Topics.battery.name]),
    });
    t.publish(Topics.battery, battery(4));
    await until(() => seen.length === 1);
    expect(msgpackCodec.decode(seen[0] as Uint8Array)).toEqual(battery(4));
  });

  it('close: closes the link, completes everything, refuses further use, safe twice', async () => {
    const { t, link } = make(new Broker());
    await t.connect();
    let completed = 0;
    t.subscribe(Topics.twist).subscribe({ complete: () => completed++ });
    t.faults$.subscribe({ complete: () => completed++ });
    await t.close();
    await t.close();
    expect(completed).toBe(2);
    expect(link.closes).toBe(1);
    expect(t.state.status).toBe('closed');
    expect(() => t.publish(Topics.twist, exampleMessages.twist)).toThrow(/closed/);
    await expect(t.connect()).rejects.toThrow(/closed/);
  });

  it('close while reconnecting stops trying', async () => {
    const broker = new Broker();
    const { t } = make(broker);
    await t.connect();
    broker.up = false;
    broker.restart();
    await t.close();
    broker.up = true;
    await new Promise((r) => setTimeout(r, 50));
    expect(broker.clients.size).toBe(0);
  });
});
