import { Topics } from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { WireError } from '../protocol.js';
import { ClientPublisher } from './client-publisher.js';
import type { GatewayClientOptions, SentCommand } from './client-types.js';

/** A socket that records what it emits; `connected` as given. */
function fakeSocket(connected = true) {
  const emitted: [string, string, unknown][] = [];
  const socket = {
    connected,
    emit: (event: string, topic: string, message: unknown) => emitted.push([event, topic, message]),
  };
  return { socket: socket as unknown as Socket, emitted, set: (c: boolean) => (socket.connected = c) };
}

function rig(options: Partial<GatewayClientOptions> = {}, dataChannel: 'open' | 'closed' = 'closed') {
  const control = fakeSocket();
  const telemetry = fakeSocket();
  const onDataChannel: [string, unknown][] = [];
  const faults: WireError[] = [];
  const sent: SentCommand[] = [];
  const publisher = new ClientPublisher({
    options: { url: 'http://gateway', ...options },
    clock: { now: () => 1_000 },
    sockets: { control: control.socket, telemetry: telemetry.socket },
    lanes: {
      open: dataChannel === 'open',
      send: (topic, message) => {
        if (dataChannel !== 'open') return false;
        onDataChannel.push([topic, message]);
        return true;
      },
    },
    fault: (e) => faults.push(e),
  });
  publisher.sent$.subscribe((s) => sent.push(s));
  return { publisher, control, telemetry, onDataChannel, faults, sent };
}

const twist = (seq: number) => ({
  ...exampleMessages.twist,
  header: { ...exampleMessages.twist.header, seq },
});
const seqOf = (m: unknown) => (m as { header: { seq: number } }).header.seq;

describe('ClientPublisher', () => {
  it('keeps a command’s seq when it is after the last sent, and moves a lower one just after it', () => {
    const r = rig();
    r.publisher.publish(Topics.twist, twist(5));
    r.publisher.publish(Topics.twist, twist(9));
    // A second publisher in the same client counts from its own start.
    r.publisher.publish(Topics.twist, twist(1));
    expect(r.control.emitted.map(([, , m]) => seqOf(m))).toEqual([5, 9, 10]);
    expect(r.sent.map((s) => s.seq)).toEqual([5, 9, 10]);
    expect(r.publisher.commandsSent).toBe(3);
  });

  it('drops a command while its lane is down, with a fault, and queues nothing', () => {
    const r = rig();
    r.control.set(false);
    r.publisher.publish(Topics.twist, twist(1));
    expect(r.control.emitted).toEqual([]);
    expect(r.faults).toEqual([
      { code: 'E_NOT_CONNECTED', message: 'not connected: message dropped', topic: '/controller/twist' },
    ]);
    r.control.set(true);
    expect(r.control.emitted).toEqual([]);
  });

  it("with controlLane 'datachannel', drops a streamed command while the DataChannel is not open", () => {
    const r = rig({ controlLane: 'datachannel' });
    r.publisher.publish(Topics.twist, twist(1));
    expect(r.control.emitted).toEqual([]);
    expect(r.faults[0]?.message).toMatch(/DataChannel is not open/);
  });

  it('sends streamed commands over an open DataChannel; an e-stop engage over both lanes', () => {
    const r = rig({}, 'open');
    r.publisher.publish(Topics.twist, twist(1));
    r.publisher.publish(Topics.estop, exampleMessages.estop);
    expect(r.onDataChannel.map(([t]) => t)).toEqual(['/controller/twist', '/controller/estop']);
    expect(r.control.emitted.map(([, t]) => t)).toEqual(['/controller/estop']);
    expect(r.sent.map((s) => [s.topic, s.lane])).toEqual([
      ['/controller/twist', 'datachannel'],
      ['/controller/estop', 'socket.io'],
    ]);
  });

  it('carries the input’s moment in the header and in sent$', () => {
    const r = rig();
    r.publisher.publish(Topics.twist, twist(1), { inputAt: 990 });
    r.publisher.publish(Topics.twist, twist(2), { inputAt: Number.NaN });
    const [first, second] = r.control.emitted.map(([, , m]) => (m as { header: { input?: number } }).header);
    expect(first?.input).toBe(990);
    expect(second).not.toHaveProperty('input');
    expect(r.sent[0]).toMatchObject({ inputAt: 990, sentAt: 1_000 });
    expect(r.sent[1]).not.toHaveProperty('inputAt');
  });

  it('sends telemetry on its own lane without counting it as a command', () => {
    const r = rig();
    r.publisher.publish(Topics.battery, exampleMessages.battery);
    expect(r.telemetry.emitted.map(([e, t]) => [e, t])).toEqual([['pub', '/telemetry/battery']]);
    expect(r.publisher.commandsSent).toBe(0);
    expect(r.sent).toEqual([]);
  });
});
