/**
 * A command through a real Mosquitto on loopback, from publish to the subscriber's hands: a bare
 * `mqtt` client (encode, publish QoS 0, the broker's echo, decode) against the Telekit transport
 * (validation both ways, dedupe, the control lane's mailbox) with control on QoS 0 and on QoS 1,
 * and QoS 1 with the broker's `set_tcp_nodelay`.
 */
import { existsSync } from 'node:fs';
import { Topics } from '@telekit/core';
import { type BenchMeasurement, type Benchmark, measureLatency } from '@telekit/testkit/bench';
import mqtt from 'mqtt';
import { filter, firstValueFrom } from 'rxjs';
import { createMqttTransport } from '../src/index.js';
import { startMosquitto } from '../test/mosquitto.js';

const ITERATIONS = 2_000;
const twist = (seq: number) => ({
  header: { seq, stamp: performance.timeOrigin + performance.now(), sender: 'bench', ttl: 10_000 },
  linear: { x: 0.5, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0.1 },
});

async function bare(): Promise<BenchMeasurement> {
  const broker = await startMosquitto();
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  try {
    await client.subscribeAsync('bench/controller/twist', { qos: 0 });
    let arrived: (() => void) | undefined;
    client.on('message', (_topic, payload) => {
      JSON.parse(payload.toString());
      arrived?.();
    });
    let seq = 0;
    const samples = await measureLatency(
      () =>
        new Promise<void>((resolve) => {
          arrived = resolve;
          client.publish('bench/controller/twist', JSON.stringify(twist(seq++)), { qos: 0 });
        }),
      { iterations: ITERATIONS },
    );
    return { samples };
  } finally {
    await client.endAsync();
    await broker.stop();
  }
}

async function telekit(controlQos: 0 | 1, nodelay = false): Promise<BenchMeasurement> {
  const broker = await startMosquitto(nodelay ? { extra: ['set_tcp_nodelay true'] } : {});
  const transport = createMqttTransport({ url: broker.url, prefix: 'bench', controlQos });
  try {
    await transport.connect();
    const feed = transport.subscribe(Topics.twist);
    let arrived: (() => void) | undefined;
    feed.subscribe(() => arrived?.());
    await firstValueFrom(feed.live$.pipe(filter(Boolean)));
    let seq = 0;
    const samples = await measureLatency(
      () =>
        new Promise<void>((resolve) => {
          arrived = resolve;
          transport.publish(Topics.twist, twist(seq++));
        }),
      { iterations: ITERATIONS },
    );
    return { samples, extra: { ...transport.linkStats() } };
  } finally {
    await transport.close();
    await broker.stop();
  }
}

export const benchmarks: Benchmark[] = [
  {
    id: 'transport-mqtt.command',
    title: 'A command through Mosquitto on loopback, publish to delivery',
    kind: 'latency',
    unavailable: () =>
      ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].some(existsSync)
        ? undefined
        : 'needs mosquitto (Debian package mosquitto)',
    baseline: { name: 'bare mqtt client, QoS 0, JSON', run: bare },
    candidates: [
      { name: 'Telekit MQTT transport, control QoS 0', run: () => telekit(0) },
      { name: 'Telekit MQTT transport, control QoS 1 (default)', run: () => telekit(1) },
      { name: 'Telekit MQTT transport, control QoS 1, broker set_tcp_nodelay', run: () => telekit(1, true) },
    ],
  },
];
