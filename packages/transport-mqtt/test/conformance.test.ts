import { randomUUID } from 'node:crypto';
import { jsonCodec, msgpackCodec } from '@telekit/core/transport';
import { describeTransport } from '@telekit/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { createMqttTransport, type MqttTransportOptions } from '../src/index.js';
import { startMosquitto } from './mosquitto.js';

// The MQTT transport passes the transport kit against a real Mosquitto, reconnect included (the
// broker is restarted under both ends), with each codec and each control QoS. Every case gets its
// own broker and prefix, so no retained sample leaks from one case into the next.
for (const variant of [
  { codec: 'json', controlQos: 1 },
  { codec: 'msgpack', controlQos: 0 },
] as const) {
  describeTransport(
    `MQTT on Mosquitto (${variant.codec}, control QoS ${variant.controlQos})`,
    async () => {
      const broker = await startMosquitto();
      const prefix = `kit/${randomUUID()}`;
      const options: MqttTransportOptions = {
        url: broker.url,
        prefix,
        ...variant,
        reconnect: { delayMs: 50, maxDelayMs: 500 },
      };
      const publisher = createMqttTransport(options);
      const subscriber = createMqttTransport(options);
      let raw: MqttClient | undefined;
      const codec = variant.codec === 'json' ? jsonCodec : msgpackCodec;
      return {
        publisher,
        subscriber,
        breakLink: () => broker.restart(),
        async sendRaw(topic, data) {
          raw ??= await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
          const bytes = data instanceof Uint8Array || typeof data === 'string' ? data : codec.encode(data);
          await raw.publishAsync(`${prefix}${topic.name}`, bytes as Buffer, { qos: 1 });
        },
        async close() {
          await publisher.close();
          await subscriber.close();
          await raw?.endAsync();
          await broker.stop();
        },
      };
    },
    // A budget for each wait, not a timing: a loaded machine takes longer through a broker.
    { capabilities: { reconnect: true, remote: true }, timeoutMs: 5_000 },
  );
}
