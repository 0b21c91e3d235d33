/**
 * Sizes: a frame above engine.io's ceiling closes the connection, before or after authentication; a
 * message above the payload limit is refused with E_PAYLOAD_TOO_LARGE on its own size, even when a
 * tiny frame follows it in the same TCP write (the old check read the size of the last frame seen).
 */
import { describe, expect, it } from 'vitest';
import { LARGE_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, OVERSIZED_FRAME_BYTES } from './config.js';
import { fate, type Joined, join, now, twist } from './harness/lanes.js';
import { addresses, PacketType, type RawClient } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { expectClosedSilently, freshOperator, violation } from './harness/violation.js';

const t = useTarget('default');
const from = addresses(60);

/** A twist padded to about `bytes` (the padding makes it invalid too: size must be judged first). */
const padded = (bytes: number) => ({ ...twist(0.7), angular: 'p'.repeat(bytes) });

async function operator(lease = false): Promise<Joined> {
  const lane = await join(t.target, { token: await freshOperator() }, { from: from() });
  if (lease) expect(await lane.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
  return lane;
}

/** Sends two EVENTs in one TCP write; resolves with both answers. */
async function together(lane: Joined, first: unknown[], second: unknown[]) {
  const c = lane.client;
  const [a, b] = [c.ackId(), c.ackId()];
  const answers = [a, b].map((id) => c.waitFor((p) => p.type === PacketType.ACK && p.id === id));
  c.batch(() => {
    c.send({ type: PacketType.EVENT, nsp: lane.nsp, id: a, data: first });
    c.send({ type: PacketType.EVENT, nsp: lane.nsp, id: b, data: second });
  });
  const [pa, pb] = await Promise.all(answers);
  return [(pa?.data as unknown[] | undefined)?.[0], (pb?.data as unknown[] | undefined)?.[0]] as const;
}

describe(`frames above the engine.io ceiling (${OVERSIZED_FRAME_BYTES} bytes and more)`, () => {
  it('close the connection without an answer, after authentication', async () => {
    for (const lane of ['/control', '/telemetry'] as const) {
      const o = await violation(
        t.target,
        from(),
        (c) =>
          c.send({
            type: PacketType.EVENT,
            nsp: lane,
            id: 1,
            data: ['pub', '/controller/twist', padded(OVERSIZED_FRAME_BYTES)],
          }),
        { nsp: lane },
      );
      expectClosedSilently(o, `${lane} pub of ${OVERSIZED_FRAME_BYTES} bytes`);
    }
    await t.intact();
  });

  it('close the connection before authentication: binary, text, and 1 MB', async () => {
    const frames: [string, (c: RawClient) => void][] = [
      [
        'a CONNECT padded past the ceiling',
        (c) =>
          c.send({
            type: PacketType.CONNECT,
            nsp: '/control',
            data: { token: 'x'.repeat(OVERSIZED_FRAME_BYTES) },
          }),
      ],
      ['a text frame past the ceiling', (c) => c.sendText(`4${'x'.repeat(OVERSIZED_FRAME_BYTES)}`)],
      ['1 MB of binary', (c) => c.sendBinary(Buffer.alloc(1_000_000, 0x90))],
    ];
    for (const [what, send] of frames) {
      const o = await violation(t.target, from(), send, { preAuth: true });
      expectClosedSilently(o, what);
    }
    await t.intact();
  });
});

describe(`messages above the payload limit (${MAX_PAYLOAD_BYTES} bytes)`, () => {
  it('are refused with E_PAYLOAD_TOO_LARGE on both lanes; the connection stays', async () => {
    for (const nsp of ['/control', '/telemetry'] as const) {
      const lane = await join(t.target, { token: await freshOperator() }, { nsp, from: from() });
      expect(fate(await lane.pub('/controller/twist', padded(LARGE_MESSAGE_BYTES))), nsp).toBe(
        'E_PAYLOAD_TOO_LARGE',
      );
      // Still served.
      const next =
        nsp === '/control'
          ? await lane.ask('time', { t0: now() })
          : await lane.ask('sub', { topic: '/telemetry/battery' });
      expect(next, `${nsp} after the refusal`).toMatchObject(
        nsp === '/control' ? { t1: expect.any(Number) } : { ok: true },
      );
    }
    await t.intact();
  });

  it('even when a tiny frame follows at once in the same TCP write', async () => {
    const lane = await operator();
    const [big, tiny] = await together(
      lane,
      ['pub', '/controller/twist', padded(LARGE_MESSAGE_BYTES)],
      ['time', { t0: now() }],
    );
    expect(fate(big)).toBe('E_PAYLOAD_TOO_LARGE');
    expect(tiny).toMatchObject({ t1: expect.any(Number) });
    // Several large ones, each followed by a tiny one.
    for (let i = 0; i < 5; i++) {
      const [b, s] = await together(
        lane,
        ['pub', '/controller/twist', padded(LARGE_MESSAGE_BYTES + i * 512)],
        ['unsub', { topic: '/telemetry/pose' }],
      );
      expect(fate(b), `large message ${i}`).toBe('E_PAYLOAD_TOO_LARGE');
      expect(fate(s), `tiny message ${i}`).not.toBe('E_PAYLOAD_TOO_LARGE');
    }
    await t.intact();
  });

  it('a tiny command followed at once by a large message is judged on its own size', async () => {
    const lane = await operator(true);
    const x = 0.777;
    const [tiny, big] = await together(
      lane,
      ['pub', '/controller/twist', twist(x)],
      ['pub', '/controller/twist', padded(LARGE_MESSAGE_BYTES)],
    );
    expect(fate(tiny)).toBe('ok');
    expect(fate(big)).toBe('E_PAYLOAD_TOO_LARGE');
    await expect.poll(async () => (await t.target.robot()).twists.some((tw) => tw.x === x)).toBe(true);
    await t.intact();
  });

  it('a message just under the limit is judged on its merits, not its size', async () => {
    const lane = await operator();
    const answer = fate(await lane.pub('/controller/twist', padded(MAX_PAYLOAD_BYTES - 1_024)));
    expect(answer).toBe('E_VALIDATION');
    await t.intact();
  });
});
