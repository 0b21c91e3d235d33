import { createApp, isTelekitError, Topics } from '@telekit/core';
import type { DefinedTransport, TransportFault } from '@telekit/core/transport';
import { battery, twist } from '@telekit/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMqttTransport, type MqttTransportOptions, mqttTransport } from '../src/index.js';
import { type Mosquitto, type MosquittoOptions, startMosquitto } from './mosquitto.js';

// What the conformance kit does not look at: the topics and QoS on the broker, other MQTT clients on
// the same topics, auth and ACLs, configuration errors, the plugin.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
async function broker(options?: MosquittoOptions): Promise<Mosquitto> {
  const b = await startMosquitto(options);
  cleanup.push(() => b.stop());
  return b;
}
function transport(options: MqttTransportOptions): DefinedTransport {
  const t = createMqttTransport({ reconnect: { delayMs: 20, maxDelayMs: 200 }, ...options });
  cleanup.push(() => t.close());
  return t;
}
async function client(url: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
  cleanup.push(() => c.endAsync());
  return c;
}
const live = (feed: { live$: import('rxjs').Observable<boolean> }) =>
  firstValueFrom(feed.live$.pipe(filter(Boolean)));

// Budgets, not timings: a loaded machine reconnects later.
describe('MQTT transport on Mosquitto', { timeout: 30_000 }, () => {
  it('puts each topic under the prefix: control on QoS 1, telemetry on QoS 0 and retained, JSON bodies', async () => {
    const b = await broker();
    const seen: { topic: string; qos: number; retain: boolean; body: unknown }[] = [];
    const spy = await client(b.url);
    await spy.subscribeAsync('robots/r1/#', { qos: 1 });
    spy.on('message', (topic, payload, packet) =>
      seen.push({ topic, qos: packet.qos, retain: packet.retain, body: JSON.parse(payload.toString()) }),
    );
    const t = transport({ url: b.url, prefix: 'robots/r1' });
    await t.connect();
    const command = twist(1, 0.5);
    const sample = battery(1);
    t.publish(Topics.twist, command);
    t.publish(Topics.battery, sample);
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen).toEqual([
      { topic: 'robots/r1/controller/twist', qos: 1, retain: false, body: command },
      { topic: 'robots/r1/telemetry/battery', qos: 0, retain: false, body: sample },
    ]);
    // Retained at the broker: a client that comes later gets the last sample.
    const late = await client(b.url);
    const retained = new Promise<boolean>((resolve) =>
      late.on('message', (_t, _p, packet) => resolve(packet.retain)),
    );
    await late.subscribeAsync('robots/r1/telemetry/battery');
    expect(await retained).toBe(true);
  });

  it('a late subscriber in another process starts from the sample retained at the broker', async () => {
    const b = await broker();
    const robot = transport({ url: b.url });
    await robot.connect();
    robot.publish(Topics.battery, battery(7));
    // The robot's sample reached the broker once a subscriber of its own sees it come back.
    const own = robot.subscribe(Topics.battery);
    const echoed = firstValueFrom(own);
    await echoed;
    const operator = transport({ url: b.url });
    await operator.connect();
    const got = await firstValueFrom(operator.subscribe(Topics.battery));
    expect(got.header.seq).toBe(7);
  });

  it('takes messages from any MQTT client, and refuses what does not fit the schema (E_VALIDATION, naming the field)', async () => {
    const b = await broker();
    const t = transport({ url: b.url });
    await t.connect();
    const faults: TransportFault[] = [];
    t.faults$.subscribe((f) => faults.push(f));
    const feed = t.subscribe(Topics.battery);
    const got: number[] = [];
    feed.subscribe((m) => got.push(m.header.seq));
    await live(feed);
    const other = await client(b.url);
    await other.publishAsync('telekit/telemetry/battery', JSON.stringify({ ...battery(1), percentage: 2 }));
    await other.publishAsync('telekit/telemetry/battery', JSON.stringify(battery(2)));
    await vi.waitFor(() => expect(got).toEqual([2]));
    expect(feed.stats()).toMatchObject({ refused: 1, delivered: 1 });
    expect(faults).toEqual([
      expect.objectContaining({ code: 'E_VALIDATION', topic: '/telemetry/battery', field: 'percentage' }),
    ]);
  });

  it('logs in with a username and password; wrong credentials give up at once with E_AUTH', async () => {
    const b = await broker({ users: { robot: 's3cret' } });
    const ok = transport({ url: b.url, username: 'robot', password: 's3cret' });
    await ok.connect();
    expect(ok.state.status).toBe('connected');
    const wrong = transport({ url: b.url, username: 'robot', password: 'guess' });
    const error = await wrong.connect().catch((e: unknown) => e);
    expect(isTelekitError(error) && error.code).toBe('E_AUTH');
    expect(wrong.state.status).toBe('disconnected');
    expect(wrong.linkStats().connects).toBe(0);
  });

  it('reports a command the ACL refuses (MQTT 5: PUBACK "not authorized") on faults$ as E_FORBIDDEN', async () => {
    // (Mosquitto grants every subscription and filters on delivery, so a refused subscription, which
    // other brokers send, is not seen here.)
    const b = await broker({
      users: { viewer: 'v' },
      acl: ['user viewer', 'topic read telekit/telemetry/#', 'topic write telekit/telemetry/#'],
    });
    const t = transport({ url: b.url, username: 'viewer', password: 'v', mqtt: { protocolVersion: 5 } });
    await t.connect();
    const faults: TransportFault[] = [];
    t.faults$.subscribe((f) => faults.push(f));
    t.publish(Topics.twist, twist(1));
    t.publish(Topics.battery, battery(1));
    await vi.waitFor(() => expect(faults).toHaveLength(1));
    expect(faults[0]).toMatchObject({ code: 'E_FORBIDDEN', topic: '/controller/twist' });
    expect(faults[0]!.message).toMatch(/not authorized/i);
    expect(t.linkStats()).toMatchObject({ sent: 2, failed: 1 });
  });

  it('waits for a broker that is not there yet: connect() times out, the transport goes on trying', async () => {
    const b = await broker();
    await b.stop();
    const t = transport({ url: b.url, connectTimeoutMs: 100 });
    const error = await t.connect().catch((e: unknown) => e);
    expect(isTelekitError(error) && error.code).toBe('E_TIMEOUT');
    expect(t.state.status).toBe('connecting');
    await b.restart();
    await firstValueFrom(t.state$.pipe(filter((s) => s.status === 'connected')));
  });

  it('refuses a URL or prefix it cannot use, naming the field', () => {
    for (const [options, field] of [
      [{ url: 'http://localhost:1883' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'mqtt://localhost', prefix: 'robots/+' }, 'prefix'],
      [{ url: 'mqtt://localhost', prefix: 'robots/' }, 'prefix'],
    ] as const) {
      let error: unknown;
      try {
        createMqttTransport(options);
      } catch (e) {
        error = e;
      }
      expect(isTelekitError(error) && error.code).toBe('E_CONFIG');
      expect((error as Error).message).toMatch(new RegExp(`^${field}: expected`));
    }
  });

  it('as a plugin: provides the transport, starts without the broker, and reports the link in health', async () => {
    const b = await broker();
    await b.stop();
    const app = createApp({
      plugins: [mqttTransport({ url: b.url, reconnect: { delayMs: 20, maxDelayMs: 100 } })],
    });
    await app.start();
    cleanup.push(() => app.stop());
    const before = await app.health();
    expect(before.plugins['@telekit/transport-mqtt']).toMatchObject({ status: 'degraded' });
    await b.restart();
    await vi.waitFor(async () => {
      const health = await app.health();
      expect(health.plugins['@telekit/transport-mqtt']).toMatchObject({ status: 'ok', detail: 'connected' });
    });
  });
});
