import { type Plugin, TelekitError, TransportToken } from '@telekit/core';
import { type DefinedTransport, type DefineTransportOptions, defineTransport } from '@telekit/core/transport';
import { type MqttLinkOptions, mqttLink } from './mqtt-link.js';

/**
 * Options of {@link createMqttTransport} and {@link mqttTransport}: the broker's ({@link
 * MqttLinkOptions}) and the transport's (`codec`, default JSON, readable by any MQTT tool;
 * `reconnect`; `connectTimeoutMs`; see `DefineTransportOptions`).
 */
export type MqttTransportOptions = MqttLinkOptions & Omit<DefineTransportOptions, 'name' | 'link'>;

const PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];
const misconfigured = (field: string, expected: string, value: string | undefined) =>
  new TelekitError('E_CONFIG', `${field}: expected ${expected}`, { context: { [field]: value } });

/**
 * A Telekit transport through an MQTT broker: every Telekit topic is a broker topic under
 * `prefix`; control on QoS 1 (or 0), telemetry on QoS 0 and retained; what arrives is validated
 * and deduplicated; the connection comes back by itself after the broker does. Throws `E_CONFIG`
 * naming the field for a URL or prefix it cannot use.
 *
 * @example
 * ```ts
 * import { Topics } from '@telekit/core';
 * import { createMqttTransport } from '@telekit/transport-mqtt';
 * const mqtt = createMqttTransport({ url: 'mqtt://localhost:1883', prefix: 'robots/r1' });
 * await mqtt.connect();
 * mqtt.subscribe(Topics.battery).subscribe((b) => console.log(b.percentage));
 * ```
 */
export function createMqttTransport(options: MqttTransportOptions): DefinedTransport {
  const protocol = URL.canParse(options.url) ? new URL(options.url).protocol : '';
  if (!PROTOCOLS.includes(protocol))
    throw misconfigured('url', 'a broker URL such as mqtt://host:1883', options.url);
  if (/[#+]|\/$/.test(options.prefix ?? ''))
    throw misconfigured('prefix', 'a topic path without +, # or a trailing /', options.prefix);
  return defineTransport({ ...options, name: 'mqtt', link: mqttLink(options) });
}

/**
 * The MQTT transport as a plugin: provides the app's `TransportToken`. The app starts while the
 * broker is still away; the transport connects when it can, and health says how the link is.
 *
 * @example
 * ```ts
 * import { createApp } from '@telekit/core';
 * import { mqttTransport } from '@telekit/transport-mqtt';
 * await createApp({ plugins: [mqttTransport({ url: 'mqtt://localhost:1883', prefix: 'robots/r1' })] }).start();
 * ```
 */
export function mqttTransport(options: MqttTransportOptions): Plugin {
  let transport: DefinedTransport | undefined;
  return {
    name: '@telekit/transport-mqtt',
    kind: 'transport',
    provides: [TransportToken],
    setup(ctx) {
      const t = createMqttTransport(options);
      transport = t;
      ctx.provide(TransportToken, t);
      const { url } = options;
      const fail = (error: Error) => ctx.logger.warn('broker not reached yet', { url, error: error.message });
      t.connect().then(() => ctx.logger.info('connected to the broker', { url }), fail);
      return () => t.close();
    },
    health() {
      if (!transport) return { status: 'down', detail: 'not started' };
      const { status, reason } = transport.state;
      const detail = reason ? `${status}: ${reason}` : status;
      return { status: status === 'connected' ? 'ok' : 'degraded', detail, data: transport.linkStats() };
    },
  };
}
