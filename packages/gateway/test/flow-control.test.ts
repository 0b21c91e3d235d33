import { Topics } from '@telekit/core';
import { exampleMessages } from '@telekit/core/schemas';
import { io, type Socket } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { ACK_EVERY_BYTES, ACKS_IN_FLIGHT } from '../src/server/outbox.js';
import { startGateway } from './helpers.js';

type Rig = Awaited<ReturnType<typeof startGateway>>;
let rig: Rig | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await rig?.close();
  rig = undefined;
});

/** A raw telemetry-lane client that counts what it receives and answers acknowledgements only when told. */
async function reader(url: string, acks: boolean) {
  const socket = io(`${url}/telemetry`, {
    transports: ['websocket'],
    parser: msgpackParser,
    forceNew: true,
    reconnection: false,
    auth: acks ? { acks: true } : {},
  });
  sockets.push(socket);
  const got = { batches: 0, messages: 0, bytes: 0, asked: [] as (() => void)[] };
  socket.on('b', (batch: [string, Uint8Array][], ack?: () => void) => {
    got.batches++;
    got.messages += batch.length;
    for (const [, bytes] of batch) got.bytes += bytes.byteLength;
    if (ack) got.asked.push(ack);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  await new Promise<void>((resolve) =>
    socket.emit('sub', { topic: Topics.battery.name, depth: 1_000 }, () => resolve()),
  );
  return got;
}

/** Publishes `n` battery samples (~100 bytes each) in bursts of 50, then lets them go out. */
async function publish(r: Rig, n: number) {
  for (let seq = 0; seq < n; seq++) {
    r.app.publish(Topics.battery, {
      ...exampleMessages.battery,
      header: { seq, stamp: Date.now(), sender: 'robot' },
    });
    if (seq % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('telemetry flow control', () => {
  it('holds a client that acknowledges batches to a bounded amount unacknowledged, and resumes on its acks', async () => {
    rig = await startGateway();
    const held = await reader(rig.url, true);
    const free = await reader(rig.url, false);
    await publish(rig, 4_000);
    // A client that never acknowledges gets what the window allows and then nothing more…
    expect(held.asked).toHaveLength(ACKS_IN_FLIGHT);
    expect(held.bytes).toBeGreaterThanOrEqual(ACKS_IN_FLIGHT * ACK_EVERY_BYTES);
    expect(held.bytes).toBeLessThan(ACKS_IN_FLIGHT * 3 * ACK_EVERY_BYTES);
    // …while one that does not ask for flow control gets whatever its socket takes.
    expect(free.messages).toBeGreaterThan(2 * held.messages);
    expect(free.asked).toEqual([]);
    const before = held.messages;
    await publish(rig, 200);
    expect(held.messages).toBe(before);
    // Acknowledged, the newest samples follow (its keep-last mailbox kept them meanwhile).
    for (const ack of held.asked.splice(0)) ack();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(held.messages).toBeGreaterThan(before);
  });

  it("the gateway's own client acknowledges: a small trickle asks for nothing, a flood is acknowledged as it reads", async () => {
    rig = await startGateway();
    const client = rig.client();
    await client.connect();
    let received = 0;
    let last = -1;
    client.subscribe(Topics.battery, { depth: 1_000 }).subscribe((b) => {
      received++;
      last = b.header.seq;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await publish(rig, 4_000);
    // Far more than a client that stopped acknowledging could get (~ACKS_IN_FLIGHT × 32 KiB, some
    // 700 samples), and the newest last: a slow machine may drop some old ones, never stall.
    expect(received).toBeGreaterThan(2_000);
    expect(last).toBe(3_999);
  });
});
