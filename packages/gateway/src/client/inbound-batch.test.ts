import { type Topic, Topics } from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { Encoded } from '@telekit/core/transport';
import { describe, expect, it } from 'vitest';
import { packMessage } from '../codec.js';
import type { WireError } from '../protocol.js';
import { type InboundValidation, readBatch } from './inbound-batch.js';

const topics = new Map<string, Topic>([Topics.battery, Topics.twist].map((t) => [t.name, t as Topic]));
const badBattery = { ...exampleMessages.battery, percentage: 'full' };
const badTwist = { ...exampleMessages.twist, linear: { x: 'fast', y: 0, z: 0 } };

/** Reads a batch and delivers everything in it, decoding what is still encoded as the bus would. */
function read(batch: unknown, validation: InboundValidation) {
  const delivered: [string, unknown][] = [];
  const refused: WireError[] = [];
  readBatch(
    batch,
    topics,
    {
      deliver: (t, m) => {
        const message = m instanceof Encoded ? m.value() : m;
        if (message !== undefined) delivered.push([t.name, message]);
      },
      refuse: (_t, f) => refused.push(f),
    },
    validation,
  );
  return { delivered, refused };
}

describe('readBatch', () => {
  it("'gateway' trusts telemetry the gateway validated: decoded, not checked again", () => {
    const r = read([[Topics.battery.name, packMessage(badBattery)]], 'gateway');
    expect(r.delivered).toEqual([[Topics.battery.name, badBattery]]);
    expect(r.refused).toEqual([]);
  });

  it("'full' checks telemetry again and names the field", () => {
    const r = read(
      [
        [Topics.battery.name, packMessage(badBattery)],
        [Topics.battery.name, packMessage(exampleMessages.battery)],
      ],
      'full',
    );
    expect(r.delivered).toEqual([[Topics.battery.name, exampleMessages.battery]]);
    expect(r.refused).toEqual([
      expect.objectContaining({ code: 'E_VALIDATION', topic: Topics.battery.name, field: 'percentage' }),
    ]);
  });

  it('control-lane messages are checked either way', () => {
    for (const validation of ['gateway', 'full'] as const) {
      const r = read([[Topics.twist.name, packMessage(badTwist)]], validation);
      expect(r.delivered).toEqual([]);
      expect(r.refused).toEqual([
        expect.objectContaining({ code: 'E_VALIDATION', topic: Topics.twist.name, field: 'linear.x' }),
      ]);
    }
  });

  it('bytes that are not MessagePack, and non-object bodies, are refused either way', () => {
    for (const validation of ['gateway', 'full'] as const) {
      const r = read(
        [
          [Topics.battery.name, new Uint8Array([0x85, 0xa4, 0x61])],
          [Topics.battery.name, packMessage(42)],
        ],
        validation,
      );
      expect(r.delivered).toEqual([]);
      expect(r.refused.map((f) => f.code)).toEqual(['E_PROTOCOL', 'E_VALIDATION']);
    }
  });

  it('hands telemetry on still encoded: a sample never delivered is never decoded nor refused', () => {
    const handed: unknown[] = [];
    const refused: WireError[] = [];
    const reader = {
      deliver: (_t: Topic, m: unknown) => handed.push(m),
      refuse: (_t: Topic, f: WireError) => refused.push(f),
    };
    readBatch([[Topics.battery.name, new Uint8Array([0x85, 0xa4, 0x61])]], topics, reader, 'full');
    expect(handed).toHaveLength(1);
    expect(handed[0]).toBeInstanceOf(Encoded);
    expect(refused).toEqual([]);
    // Delivered after all: decoded then, once, and refused then.
    expect((handed[0] as Encoded).value()).toBeUndefined();
    expect((handed[0] as Encoded).value()).toBeUndefined();
    expect(refused.map((f) => f.code)).toEqual(['E_PROTOCOL']);
  });
});
