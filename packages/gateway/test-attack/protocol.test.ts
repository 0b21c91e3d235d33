/**
 * Malformed socket.io and engine.io traffic, one violation per connection: event names that are not
 * strings or not the namespace's, packet types a client may not send, attachments, bad ack ids, data
 * that is not an array, unknown namespaces, engine.io garbage and msgpack bombs. Each closes its
 * connection without an answer; the process survives; a legitimate operator still drives.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_EVENTS } from './config.js';
import { isEvent, type Lane, now, open, tryJoin } from './harness/lanes.js';
import { addresses, PacketType, pack } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { expectClosedSilently, freshOperator, violation } from './harness/violation.js';

const t = useTarget('default');
const from = addresses(10);
const LANES: Lane[] = ['/control', '/telemetry'];

/** An object whose own `toString` is not a function: `String(it)` throws. */
const poisoned = { toString: 1, valueOf: 2 };
/** Event names that are not strings. */
const nonStringNames: [string, unknown][] = [
  ['an empty map', {}],
  ['a map with toString and valueOf', poisoned],
  ['a map with a __proto__ key', JSON.parse('{"__proto__":{"polluted":true}}')],
  ['an empty array', []],
  ['an array holding a known name', ['pub']],
  ['the number 0', 0],
  ['the number 2', 2],
  ['a negative number', -1],
  ['a float', 1.5],
  ['null', null],
  ['true', true],
  ['binary', Buffer.from('pub')],
];
/** Strings that are not one of the namespace's events. */
const foreignNames = (lane: Lane): [string, string][] => [
  ['an unknown name', 'no-such-event'],
  ['a 10 kB name', 'x'.repeat(10_000)],
  ['a known name with a NUL', 'pub\u0000'],
  ['a known name in capitals', 'PUB'],
  ['a server event (welcome)', 'welcome'],
  ['a server event (fault)', 'fault'],
  ['a reserved event (error)', 'error'],
  ['a reserved event (disconnect)', 'disconnect'],
  ['a reserved event (disconnecting)', 'disconnecting'],
  ['a reserved event (newListener)', 'newListener'],
  ['a reserved event (connect)', 'connect'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['hasOwnProperty', 'hasOwnProperty'],
  lane === '/control' ? ['the telemetry-only req', 'req'] : ['the control-only lease', 'lease'],
  lane === '/control' ? ['empty string', ''] : ['the control-only time', 'time'],
];

describe('event names', () => {
  for (const lane of LANES) {
    it(`${lane}: an EVENT whose name is not a string closes the connection without an answer`, async () => {
      for (const [what, name] of nonStringNames) {
        const o = await violation(t.target, from(), (c) => c.emit(lane, name, '/controller/twist', {}), {
          nsp: lane,
        });
        expectClosedSilently(o, `${lane} event name ${what}`);
      }
      // The same with an acknowledgement asked for: no ACK either.
      for (const [what, name] of nonStringNames.slice(0, 4)) {
        const o = await violation(
          t.target,
          from(),
          (c) => c.send({ type: PacketType.EVENT, nsp: lane, id: 7, data: [name, {}] }),
          { nsp: lane },
        );
        expectClosedSilently(o, `${lane} event name ${what} with an ack id`);
      }
      await t.intact();
    });

    it(`${lane}: an EVENT that is not one of ${CLIENT_EVENTS[lane].join(', ')} closes the connection`, async () => {
      for (const [what, name] of foreignNames(lane)) {
        const o = await violation(t.target, from(), (c) => c.emit(lane, name, { topic: '/telemetry/pose' }), {
          nsp: lane,
        });
        expectClosedSilently(o, `${lane} event ${what}`);
      }
      await t.intact();
    });
  }

  it('before authentication, an EVENT with a non-string name on any namespace is never answered', async () => {
    for (const nsp of ['/', '/control', '/telemetry', '/admin']) {
      for (const [what, name] of nonStringNames) {
        const o = await violation(t.target, from(), (c) => c.emit(nsp, name, {}), { preAuth: true });
        expect(o.answers, `${nsp} ${what} before authentication`).toEqual([]);
      }
    }
    await t.intact();
  });
});

describe('namespaces', () => {
  it('the default namespace / refuses every connection, with or without a token', async () => {
    for (const auth of [
      undefined,
      {},
      { token: await freshOperator() },
      { token: await freshOperator('admin') },
    ]) {
      const c = await open(t.target, { localAddress: from() });
      const answer = await c.connect('/', auth);
      expect(answer?.type ?? 'closed', `CONNECT / with ${JSON.stringify(auth)}`).toBe(
        PacketType.CONNECT_ERROR,
      );
      // Nothing is served on it.
      const served = await c.ask('/', 'pub', ['/controller/twist', {}], 2_000).catch(() => undefined);
      expect(served, 'an EVENT on / was answered').toBeUndefined();
      c.kill();
    }
    await t.intact();
  });

  it('an unknown namespace closes the connection without an answer, before or after authentication', async () => {
    const unknown = [
      '/admin',
      '/../control',
      '/control/',
      '/CONTROL',
      'control',
      '',
      '/control?x=1',
      `/${'n'.repeat(10_000)}`,
    ];
    for (const nsp of unknown) {
      const before = await violation(
        t.target,
        from(),
        (c) => c.send({ type: PacketType.CONNECT, nsp, data: { token: 'x' } }),
        { preAuth: true },
      );
      expectClosedSilently(before, `CONNECT ${nsp.slice(0, 40)} before authentication`);
      const after = await violation(t.target, from(), (c) => c.emit(nsp, 'pub', '/controller/twist', {}));
      expectClosedSilently(after, `EVENT on ${nsp.slice(0, 40)} after authentication`);
    }
    await t.intact();
  });

  it('a namespace that is not a string closes the connection', async () => {
    for (const nsp of [1, null, ['/control'], { '/control': 1 }, Buffer.from('/control')]) {
      const o = await violation(t.target, from(), (c) =>
        c.send({ type: PacketType.EVENT, nsp, data: ['time', {}] }),
      );
      expectClosedSilently(o, `namespace ${JSON.stringify(nsp)}`);
    }
    const p = await violation(t.target, from(), (c) =>
      c.send({ type: PacketType.EVENT, data: ['time', {}] }),
    );
    expectClosedSilently(p, 'no namespace');
    await t.intact();
  });
});

describe('packet types, attachments, ack ids, data', () => {
  it('packet types a client may not send close the connection: CONNECT_ERROR, ACK, BINARY_EVENT, BINARY_ACK, others', async () => {
    const packets: [string, Record<string, unknown>][] = [
      ['CONNECT_ERROR with a string', { type: PacketType.CONNECT_ERROR, data: 'boom' }],
      ['CONNECT_ERROR with a map', { type: PacketType.CONNECT_ERROR, data: { message: 'x' } }],
      ['ACK with an id', { type: PacketType.ACK, id: 1, data: [{ ok: true }] }],
      ['ACK without an id', { type: PacketType.ACK, data: [] }],
      [
        'BINARY_EVENT',
        { type: PacketType.BINARY_EVENT, data: ['pub', { _placeholder: true, num: 0 }], attachments: 1 },
      ],
      ['BINARY_ACK', { type: PacketType.BINARY_ACK, id: 1, data: [], attachments: 1 }],
      ['type 7', { type: 7, data: ['time', {}] }],
      ['type -1', { type: -1, data: ['time', {}] }],
      ['type 2.5', { type: 2.5, data: ['time', {}] }],
      ['type "2"', { type: '2', data: ['time', {}] }],
      ['type null', { type: null, data: ['time', {}] }],
      ['no type', { data: ['time', {}] }],
      ['DISCONNECT with data', { type: PacketType.DISCONNECT, data: { reason: 'x' } }],
      ['CONNECT with an array', { type: PacketType.CONNECT, data: ['x'] }],
      ['CONNECT with a string', { type: PacketType.CONNECT, data: 'x' }],
    ];
    for (const lane of LANES) {
      for (const [what, packet] of packets) {
        const o = await violation(t.target, from(), (c) => c.send({ nsp: lane, ...packet }), { nsp: lane });
        expectClosedSilently(o, `${lane} ${what}`);
      }
    }
    for (const [what, packet] of packets.slice(0, 8)) {
      const o = await violation(t.target, from(), (c) => c.send({ nsp: '/control', ...packet }), {
        preAuth: true,
      });
      expectClosedSilently(o, `${what} before authentication`);
    }
    // An empty ACK is a client's acknowledgement of a telemetry batch: on the control lane, or
    // before authentication, it is not one.
    const emptyAck = { type: PacketType.ACK, id: 1, data: [] };
    expectClosedSilently(
      await violation(t.target, from(), (c) => c.send({ nsp: '/control', ...emptyAck }), { nsp: '/control' }),
      'an empty ACK on /control',
    );
    expectClosedSilently(
      await violation(t.target, from(), (c) => c.send({ nsp: '/telemetry', ...emptyAck }), { preAuth: true }),
      'an empty ACK before authentication',
    );
    // On the telemetry lane a few are fine (ids the gateway never asked for are ignored); a flood closes.
    expectClosedSilently(
      await violation(
        t.target,
        from(),
        (c) => {
          for (let id = 0; id < 3_000; id++) c.send({ nsp: '/telemetry', ...emptyAck, id });
        },
        { nsp: '/telemetry' },
      ),
      'a flood of empty ACKs on /telemetry',
    );
    await t.intact();
  });

  it('an attachments field, a bad ack id or EVENT data that is not an array closes the connection', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ...[0, 1, -1, 'x', 1e9].map((a): [string, Record<string, unknown>] => [
        `attachments ${a}`,
        { data: ['time', { t0: 1 }], id: 1, attachments: a },
      ]),
      ...[-1, -(2 ** 31), 1.5, 2 ** 53 + 2, '1', null, true, [1], { id: 1 }].map(
        (id): [string, Record<string, unknown>] => [
          `ack id ${JSON.stringify(id)}`,
          { data: ['time', { t0: 1 }], id },
        ],
      ),
      ...[{}, 'time', 1, null, true, Buffer.from('time')].map((data): [string, Record<string, unknown>] => [
        `data ${JSON.stringify(data)}`,
        { data },
      ]),
      ['no data', {}],
      ['an empty array', { data: [] }],
    ];
    for (const lane of LANES) {
      for (const [what, fields] of cases) {
        const o = await violation(
          t.target,
          from(),
          (c) => c.send({ type: PacketType.EVENT, nsp: lane, ...fields }),
          {
            nsp: lane,
          },
        );
        expectClosedSilently(o, `${lane} ${what}`);
      }
    }
    await t.intact();
  });

  it('a valid ack id, 0 included, is answered on the same id', async () => {
    const r = await tryJoin(t.target, { token: await freshOperator() }, { from: from() });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.lane.client;
    for (const id of [0, 1, 2 ** 31 - 1]) {
      const answer = c.waitFor((p) => p.type === PacketType.ACK && p.id === id);
      c.send({ type: PacketType.EVENT, nsp: '/control', id, data: ['time', { t0: now() }] });
      expect((await answer)?.data, `ack id ${id}`).toEqual([
        expect.objectContaining({ t1: expect.any(Number) }),
      ]);
    }
    await t.intact();
  });
});

describe('engine.io garbage and msgpack bombs', () => {
  const texts: [string, string][] = [
    ['a message with text junk', '4hello'],
    ['an empty message', '4'],
    ['a JSON socket.io packet (the default parser format)', '42/control,["pub","/controller/twist",{}]'],
    ['unknown engine.io type 9', '9'],
    ['unknown engine.io type x', 'x'],
    ['an empty text frame', ''],
    ['a NUL', '\u0000'],
    ['10 kB of junk', `4${'z'.repeat(10_000)}`],
  ];
  const binaries: [string, Buffer][] = [
    ['an empty binary frame', Buffer.alloc(0)],
    ['the never-used msgpack byte 0xc1', Buffer.from([0xc1])],
    ['a truncated packet', pack({ type: 2, nsp: '/control', data: ['time', { t0: 1 }] }).subarray(0, 12)],
    [
      'a packet with trailing bytes',
      Buffer.concat([pack({ type: 2, nsp: '/control', data: ['time', { t0: 1 }] }), Buffer.from([0])]),
    ],
    ['a map declaring 2^32 - 1 entries', Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff])],
    ['an array declaring 2^32 - 1 items', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
    ['a string declaring 4 GB', Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])],
    ['a binary declaring 4 GB', Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x61])],
    ['arrays nested 30 000 deep', Buffer.alloc(30_000, 0x91)],
    [
      'maps nested 10 000 deep',
      Buffer.concat(Array.from({ length: 10_000 }, () => Buffer.from([0x81, 0xa1, 0x61]))),
    ],
    ['a packet whose data nests 30 000 deep', nestedEvent(30_000)],
    ['a packet that is a bare string', pack('pub')],
    ['a packet that is an array', pack([2, '/control', ['time', {}]])],
  ];

  it('text frames that are not engine.io packets, or whose message is not msgpack, close the connection', async () => {
    for (const preAuth of [true, false]) {
      for (const [what, text] of texts) {
        const o = await violation(t.target, from(), (c) => c.sendText(text), { preAuth });
        expectClosedSilently(o, `${what} ${preAuth ? 'before' : 'after'} authentication`);
      }
    }
    await t.intact();
  });

  it('binary frames that are not socket.io packets close the connection: truncated, trailing, bombs, deep nesting', async () => {
    for (const preAuth of [true, false]) {
      for (const [what, bytes] of binaries) {
        const o = await violation(t.target, from(), (c) => c.sendBinary(bytes), { preAuth });
        expectClosedSilently(o, `${what} ${preAuth ? 'before' : 'after'} authentication`);
      }
    }
    await t.intact();
  });

  it('engine.io control packets from the client (open, ping, upgrade, noop) do not crash the gateway', async () => {
    for (const text of ['0', '2', '2probe', '3', '5', '6', '1']) {
      const c = await open(t.target, { localAddress: from() });
      c.sendText(text);
      c.sendText(text);
      // Accepted or closed, never an answer on a namespace the client did not join.
      await c.waitClosed(1_000).catch(() => undefined);
      expect(c.packets, `engine.io packet ${text}`).toEqual([]);
      c.kill();
    }
    await t.intact();
  });

  it('six bytes declaring a 64 MB ArrayBuffer extension do not block the gateway (16 at once, before authentication)', async () => {
    // msgpack ext 32, type 0: socket.io-msgpack-parser's decoder (notepack) allocates the declared
    // length and copies it byte by byte, whatever the frame holds: about 0.8 s of a blocked event
    // loop per frame here. A decoder that checks lengths against the frame refuses it at once.
    const bomb = Buffer.from([0xc9, 0x04, 0x00, 0x00, 0x00, 0x00]);
    const clients = await Promise.all(
      Array.from({ length: 16 }, () => open(t.target, { localAddress: from() })),
    );
    const t0 = performance.now();
    for (const c of clients) c.sendBinary(bomb);
    // The gateway answers plain HTTP at once if its event loop is free.
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${t.target.url}/healthz`, { signal: AbortSignal.timeout(60_000) });
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    await Promise.all(clients.map((c) => c.waitClosed(60_000)));
    expect(ms, 'the gateway answered /healthz only after decoding the bombs').toBeLessThan(5_000);
    await t.intact();
  });
});

describe('after the violations', () => {
  it('a lane left open by a client is served normally (the suite can tell a refusal from a dead gateway)', async () => {
    const r = await tryJoin(t.target, { token: await freshOperator() }, { from: from() });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(await r.lane.ask('time', { t0: now() })).toMatchObject({ t1: expect.any(Number) });
    expect(r.lane.client.packets.some((p) => isEvent(p, 'welcome'))).toBe(true);
    await t.intact();
  });
});

/** An EVENT `time` whose argument is an array nested `depth` deep. */
function nestedEvent(depth: number): Buffer {
  const head = pack({ type: 2, nsp: '/control', data: ['time', null] });
  // Replace the trailing nil (0xc0) of data with the nested arrays.
  const nil = head.lastIndexOf(0xc0);
  return Buffer.concat([
    head.subarray(0, nil),
    Buffer.alloc(depth, 0x91),
    Buffer.from([0xc0]),
    head.subarray(nil + 1),
  ]);
}
