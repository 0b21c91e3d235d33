import { checkMessage, type Topic } from '@telekit/core';
import { Encoded } from '@telekit/core/transport';
import { unpackMessage } from '../codec.js';
import type { WireError } from '../protocol.js';

/** Where {@link readBatch} hands what it read. */
export interface BatchReader {
  /** A checked message of a known topic, or telemetry still {@link Encoded} (checked when delivered). */
  deliver(topic: Topic, message: unknown): void;
  /** A message the client cannot use: undecodable, or not what its topic's schema says. */
  refuse(topic: Topic, fault: WireError): void;
}

/**
 * Which entries of a batch are checked against their topic's schema: `'full'` every one;
 * `'gateway'` control-lane ones only, telemetry being validated by the gateway once for all its
 * clients before it is encoded (see `GatewayClientOptions.inboundValidation`).
 */
export type InboundValidation = 'gateway' | 'full';

/**
 * A batch of `[topic, message]` entries from the gateway (a message as MessagePack bytes, or already
 * decoded by the wire parser): each decoded and, as `validation` says, checked against its topic's
 * schema. A telemetry message in bytes is handed on still encoded ({@link Encoded}): it is decoded
 * and checked when it is delivered, and never if a newer sample replaces it first — a client that
 * reads a fast topic slower than it arrives spends nothing on the samples it drops (a refusal is
 * then reported when the message would have been delivered). Entries of topics the client does not
 * know, and anything that is not an entry, are skipped.
 */
export function readBatch(
  batch: unknown,
  topics: ReadonlyMap<string, Topic>,
  reader: BatchReader,
  validation: InboundValidation = 'full',
): void {
  if (!Array.isArray(batch)) return;
  for (const entry of batch) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const topic = topics.get(entry[0]);
    if (!topic) continue;
    const payload: unknown = entry[1];
    if (topic.lane !== 'control' && (payload instanceof Uint8Array || payload instanceof ArrayBuffer))
      reader.deliver(topic, new Encoded(() => read(topic, payload, reader, validation)));
    else {
      const message = read(topic, payload, reader, validation);
      if (message !== undefined) reader.deliver(topic, message);
    }
  }
}

/** One entry's message, decoded and checked; undefined (reported to `reader`) when it cannot be used. */
function read(topic: Topic, payload: unknown, reader: BatchReader, validation: InboundValidation): unknown {
  if (payload instanceof Uint8Array || payload instanceof ArrayBuffer) {
    try {
      payload = unpackMessage(payload as Uint8Array);
    } catch {
      reader.refuse(topic, {
        code: 'E_PROTOCOL',
        message: 'gateway sent an undecodable message',
        topic: topic.name,
      });
      return undefined;
    }
  }
  // Telemetry from the gateway was validated there, once for every client: decoding suffices.
  if (validation === 'gateway' && topic.lane !== 'control' && typeof payload === 'object' && payload !== null)
    return payload;
  const checked = checkMessage(topic, payload);
  if (checked.ok) return checked.value;
  reader.refuse(topic, {
    code: 'E_VALIDATION',
    message: `gateway sent ${checked.error.message}`,
    topic: topic.name,
    field: checked.error.field,
  });
  return undefined;
}
