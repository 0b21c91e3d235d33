import { checkMessage, type Topic } from '@telekit/core';
import { unpackMessage } from '../codec.js';
import type { WireError } from '../protocol.js';

/** Where {@link readBatch} hands what it read. */
export interface BatchReader {
  /** A checked message of a known topic. */
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
 * schema. Entries of topics the client does not know, and anything that is not an entry, are skipped.
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
    let payload: unknown = entry[1];
    if (payload instanceof Uint8Array || payload instanceof ArrayBuffer) {
      try {
        payload = unpackMessage(payload as Uint8Array);
      } catch {
        reader.refuse(topic, {
          code: 'E_PROTOCOL',
          message: 'gateway sent an undecodable message',
          topic: topic.name,
        });
        continue;
      }
    }
    // Telemetry from the gateway was validated there, once for every client: decoding suffices.
    if (validation === 'gateway' && topic.lane !== 'control') {
      if (typeof payload === 'object' && payload !== null) {
        reader.deliver(topic, payload);
        continue;
      }
    }
    const checked = checkMessage(topic, payload);
    if (checked.ok) reader.deliver(topic, checked.value);
    else
      reader.refuse(topic, {
        code: 'E_VALIDATION',
        message: `gateway sent ${checked.error.message}`,
        topic: topic.name,
        field: checked.error.field,
      });
  }
}
