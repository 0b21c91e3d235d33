/**
 * Telekit's streams through an MQTT broker, on the `mqtt` client, built with core's `defineTransport`.
 * @module
 */
export { type MqttLinkOptions, mqttLink } from './mqtt-link.js';
export { createMqttTransport, type MqttTransportOptions, mqttTransport } from './mqtt-transport.js';
