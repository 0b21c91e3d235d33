import { TelekitError, type Topic } from '@telekit/core';
import type { Link } from '@telekit/core/transport';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Options of {@link mqttLink}. */
export interface MqttLinkOptions {
  /** The broker: `mqtt://host:1883`, `mqtts://host:8883`, `ws://host:8080/mqtt`, `wss://…`. */
  url: string;
  /**
   * Put before every Telekit topic on the broker: with `robots/r1`, `/controller/twist` is
   * `robots/r1/controller/twist`. One robot per prefix. Default `telekit`.
   */
  prefix?: string;
  /** Credentials for the broker (shorthands of `mqtt.username` and `mqtt.password`). */
  username?: string;
  password?: string;
  /**
   * QoS of the control lane. 1 (default): each command is acknowledged by the broker, so a refused
   * or lost one is reported on `faults$`; 0: fire and forget. Latest-wins and the deadline are the
   * receiver's either way. Telemetry is always QoS 0.
   */
  controlQos?: 0 | 1;
  /** Retain telemetry at the broker, so a subscriber that comes later gets the last sample. Default true. */
  retainTelemetry?: boolean;
  /**
   * Anything else for the mqtt client: TLS (`ca`, `cert`, `key`, `rejectUnauthorized`), `clientId`
   * (unique per broker: a second client with the same id evicts the first; default random),
   * `protocolVersion`, `keepalive`, … Its own reconnection is off: the transport reconnects.
   */
  mqtt?: IClientOptions;
}

// CONNACK codes that will not change by retrying (MQTT 3.1.1 and 5): credentials, then configuration.
const AUTH = new Set([4, 5, 134, 135, 138, 140]);
const CONFIG = new Set([1, 2, 132, 133]);
// PUBACK codes (MQTT 5) with a Telekit meaning.
const PUBACK: Record<number, string> = {
  135: 'E_FORBIDDEN',
  149: 'E_PAYLOAD_TOO_LARGE',
  151: 'E_RATE_LIMITED',
};

const reasonCode = (error: unknown) => (error as { code?: number }).code ?? 0;

/**
 * The MQTT part of the transport, as a `Link` for `defineTransport`: one mqtt client per
 * connection, topics mapped under a prefix, QoS per lane.
 */
export function mqttLink(options: MqttLinkOptions): Link {
  const prefix = options.prefix ?? 'telekit';
  const controlQos = options.controlQos ?? 1;
  const qosOf = (topic: Topic) => (topic.lane === 'telemetry' ? 0 : controlQos);
  const brokerTopic = (topic: Topic) => `${prefix}${topic.name}`;
  const clientOptions = { username: options.username, password: options.password, ...options.mqtt };
  let client: MqttClient | undefined;

  // A refusal that retrying will not change becomes E_AUTH or E_CONFIG: the transport gives up.
  const connectError = (error: unknown) => {
    const code = reasonCode(error);
    if (!AUTH.has(code) && !CONFIG.has(code)) return error;
    const message = `broker refused the connection: ${(error as Error).message}`;
    const context = { url: options.url, code };
    return new TelekitError(AUTH.has(code) ? 'E_AUTH' : 'E_CONFIG', message, { cause: error, context });
  };

  return {
    async connect(events) {
      const connecting = mqtt.connectAsync(options.url, { ...clientOptions, reconnectPeriod: 0 }, false);
      const c = await connecting.catch((error: unknown) => Promise.reject(connectError(error)));
      client = c;
      // No Nagle: a small command waiting for the last one's acknowledgement stalled 40 ms (a bench saw it).
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      let why = 'connection to the broker closed';
      c.on('error', (error) => (why = error.message));
      c.on('message', (name, payload) => {
        if (name.startsWith(`${prefix}/`)) events.receive(name.slice(prefix.length), payload);
      });
      c.on('close', () => {
        if (client !== c) return;
        client = undefined;
        c.end(true);
        events.lost(why);
      });
    },
    async send(frame) {
      if (!client) throw new Error('not connected to the broker');
      const retain = frame.topic.lane === 'telemetry' && (options.retainTelemetry ?? true);
      const qos = qosOf(frame.topic);
      try {
        // mqtt-packet writes any Uint8Array; its types ask for a Buffer.
        await client.publishAsync(brokerTopic(frame.topic), frame.bytes as Buffer, { qos, retain });
      } catch (error) {
        const code = PUBACK[reasonCode(error)];
        throw code ? new TelekitError(code, (error as Error).message, { cause: error }) : error;
      }
    },
    async subscribe(topic) {
      if (!client) throw new Error('not connected to the broker');
      const grants = await client.subscribeAsync(brokerTopic(topic), { qos: qosOf(topic) });
      const context = { topic: brokerTopic(topic) };
      if (grants.some((g) => g.qos >= 128))
        throw new TelekitError('E_FORBIDDEN', 'broker refused the subscription', { context });
    },
    async unsubscribe(topic) {
      await client?.unsubscribeAsync(brokerTopic(topic));
    },
    async close() {
      const c = client;
      client = undefined;
      // Gracefully (in-flight commands acknowledged first) unless the connection is gone already.
      await c?.endAsync(!c.connected);
    },
  };
}
