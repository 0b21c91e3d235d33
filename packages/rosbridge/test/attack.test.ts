import { Topics } from '@telekit/core';
import { encode } from 'cbor2';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAMES_BEFORE_AUTH } from '../src/rosbridge-connection.js';
import { frames, startEndpoint, token } from './helpers.js';

/** Frames no rosbridge server should choke on, one kind per index. */
const KINDS: ((i: number) => string | Buffer)[] = [
  (i) => `{"op":"publish","topic":"/cmd_vel","msg":{${i}`, // truncated JSON
  () => 'null',
  (i) => `[${i}]`,
  (i) => JSON.stringify({ id: `a${i}`, topic: '/cmd_vel' }), // no op
  (i) => JSON.stringify({ op: 42, id: `b${i}` }),
  (i) => JSON.stringify({ op: `no_such_op_${i}`, id: `c${i}` }),
  (i) => JSON.stringify({ op: 'publish', id: `d${i}`, topic: 7, msg: {} }),
  (i) => JSON.stringify({ op: 'publish', id: `e${i}`, topic: '/cmd_vel', msg: 'fast' }),
  (i) =>
    JSON.stringify({
      op: 'publish',
      id: `f${i}`,
      topic: '/cmd_vel',
      msg: { linear: { x: 'NaN' }, angular: {} },
    }),
  (i) => JSON.stringify({ op: 'publish', id: `g${i}`, topic: '/no/such/topic', msg: {} }),
  (i) => JSON.stringify({ op: 'subscribe', id: `h${i}`, topic: '/odom', throttle_rate: -5 }),
  (i) => JSON.stringify({ op: 'subscribe', id: `i${i}`, topic: '/odom', compression: 'zip' }),
  (i) => JSON.stringify({ op: 'call_service', id: `j${i}`, service: ['x'] }),
  (i) => JSON.stringify({ op: 'advertise', id: `k${i}`, topic: '/cmd_vel', type: 'std_msgs/String' }),
  (i) => JSON.stringify({ op: 'set_level', id: `l${i}`, level: 'loud' }),
  (i) => JSON.stringify({ op: 'service_response', id: `m${i}`, result: 'yes' }),
  (i) => JSON.stringify({ op: 'publish', id: `n${i}`, topic: '/cmd_vel', msg: { pad: 'x'.repeat(20_000) } }), // over 16 KB
  (i) => Buffer.from([0xff, 0xfe, 0x1c, i & 0xff, 0x00, 0x9f]), // CBOR garbage
  (i) => Buffer.from(encode([i, 'not a map'])), // CBOR, not an object
  (i) => Buffer.from(encode({ op: 'publish', id: `o${i}`, topic: '/cmd_vel', msg: { linear: 1 } })), // CBOR, wrong fields
  () => `{"op":"publish","topic":"/cmd_vel","msg":${'['.repeat(5_000)}`, // deep nesting, truncated
];

describe('bad input at the rosbridge endpoint', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('10,500 malformed frames: each answered with a status naming the field; the endpoint lives and others drive', async () => {
    env = await startEndpoint({
      // Every refusal answered and none cutting the attacker off: the test counts the answers.
      limits: { quietAfter: 1e9, disconnectAfter: 1e9, requests: { rate: 1e9, burst: 1e9 } },
    });
    const attacker = await env.raw(`?token=${await token('mallory', 'operator')}`);
    const af = frames(attacker);
    const operator = await env.raw(`?token=${await token('olga', 'operator')}`);
    const N = 10_500;
    let x = 0;
    const roundTrip = async () => {
      x += 0.01;
      const want = Number(x.toFixed(2));
      const got = firstValueFrom(env!.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === want)));
      operator.send(
        JSON.stringify({
          op: 'publish',
          topic: '/cmd_vel',
          msg: { linear: { x: want, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
        }),
      );
      await got;
    };
    await roundTrip();
    for (let i = 0; i < N; i++) {
      const f = KINDS[i % KINDS.length]!(i);
      attacker.send(f, { binary: typeof f !== 'string' });
      // Others keep driving in the middle of the flood.
      if (i % 1_000 === 0) await roundTrip();
    }
    const statuses = () => af.got.filter((m) => m.op === 'status');
    await af.next(() => statuses().length >= N);
    const all = statuses();
    expect(all.length).toBe(N);
    expect(
      all.every((s) => s.level === 'error' && typeof s.field === 'string' && typeof s.msg === 'string'),
    ).toBe(true);
    const byId = (id: string) => all.find((s) => s.id === id);
    expect(byId('c5')).toMatchObject({
      code: 'E_ROSBRIDGE_OP',
      field: 'op',
      msg: 'no_such_op_5: op: unknown op "no_such_op_5"',
    });
    expect(byId('d6')).toMatchObject({
      field: 'topic',
      msg: 'publish: topic: expected a non-empty string, received number',
    });
    expect(byId('e7')).toMatchObject({
      field: 'msg',
      msg: 'publish: msg: expected an object, received string',
    });
    expect(byId('f8')).toMatchObject({ code: 'E_VALIDATION', field: 'msg.linear.x' });
    expect(byId('g9')).toMatchObject({ code: 'E_ROSBRIDGE_UNMAPPED', field: 'topic' });
    expect(byId('h10')).toMatchObject({ field: 'throttle_rate' });
    expect(byId('i11')).toMatchObject({ field: 'compression' });
    expect(byId('k13')).toMatchObject({ field: 'type' });
    expect(byId('l14')).toMatchObject({ field: 'level' });
    expect(byId('m15')).toMatchObject({ field: 'result' });
    expect(all.filter((s) => s.code === 'E_PAYLOAD_TOO_LARGE').length).toBe(500);
    expect(all.filter((s) => /not CBOR/.test(String(s.msg))).length).toBe(500);
    expect(all.filter((s) => /not JSON/.test(String(s.msg))).length).toBe(1_000);
    expect(env.rosbridge.metrics.badFrames).toBeGreaterThanOrEqual(N);
    await roundTrip();
    // A frame over the socket's ceiling (1 MiB) closes that socket (1009), and nothing else.
    const closed = new Promise<number>((resolve) => attacker.once('close', (code) => resolve(code)));
    attacker.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    await roundTrip();
  }, 120_000);

  it('with the default limits an attacker is cut off and kept out, and the operator drives on', async () => {
    env = await startEndpoint();
    const attacker = await env.raw(`?token=${await token('mallory', 'operator')}`);
    const operator = await env.raw(`?token=${await token('olga', 'operator')}`);
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    for (let i = 0; i < 2_000 && attacker.readyState === attacker.OPEN; i++) attacker.send(`{"op":${i}`);
    await closed;
    // Only the first refusals of a second were answered.
    expect(frames(attacker).got.filter((m) => m.op === 'status').length).toBeLessThanOrEqual(40);
    // Kept out: the same principal is refused at once.
    const again = await env.raw(`?token=${await token('mallory', 'operator')}`);
    const status = await frames(again).next((m) => m.op === 'status');
    expect(status.msg).toMatch(/kept out for a while after too many refusals/);
    const got = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0.3)));
    operator.send(
      JSON.stringify({
        op: 'publish',
        topic: '/cmd_vel',
        msg: { linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
      }),
    );
    await got;
  });

  it('a client without credentials gets a few answers, then the close: not one per frame until the auth timeout', async () => {
    env = await startEndpoint();
    const ws = await env.raw();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const before = env.rosbridge.metrics.badFrames;
    for (let i = 0; i < 1_000 && ws.readyState === ws.OPEN; i++)
      ws.send(JSON.stringify({ op: 'subscribe', id: `s${i}`, topic: '/odom' }));
    expect(await closed).toBe(1008);
    // An op name of many bytes: the close reason (123 bytes at most) is cut on a character.
    const other = await env.raw();
    const shut = new Promise<number>((resolve) => other.once('close', (code) => resolve(code)));
    for (let i = 0; i < FRAMES_BEFORE_AUTH; i++) other.send(JSON.stringify({ op: '\u20ac'.repeat(500) }));
    expect(await shut).toBe(1008);
    const statuses = frames(ws).got.filter((m) => m.op === 'status');
    expect(statuses.length).toBe(FRAMES_BEFORE_AUTH);
    expect(statuses.every((s) => s.code === 'E_AUTH' && s.field === 'op')).toBe(true);
    expect(statuses.at(-1)).toMatchObject({ id: `s${FRAMES_BEFORE_AUTH - 1}` });
    expect(statuses.at(-1)!.msg).toMatch(
      new RegExp(
        `subscribe: authenticate first.*; ${FRAMES_BEFORE_AUTH} frames without authenticating: closing`,
      ),
    );
    expect(env.rosbridge.metrics.badFrames - before).toBeGreaterThanOrEqual(FRAMES_BEFORE_AUTH);
  });

  it('a malformed or oversized frame before authenticating: one status naming the field, then the close', async () => {
    env = await startEndpoint();
    const bad: [string, Record<string, unknown>][] = [
      ['{"op":"publish"', { code: 'E_BAD_REQUEST', field: '(frame)' }],
      [JSON.stringify({ op: 7 }), { code: 'E_BAD_REQUEST', field: 'op' }],
      [JSON.stringify({ op: 'auth', mac: 42 }), { code: 'E_BAD_REQUEST', field: 'mac' }],
      [
        JSON.stringify({ op: 'publish', pad: 'x'.repeat(20_000) }),
        { code: 'E_PAYLOAD_TOO_LARGE', field: '(frame)' },
      ],
      // Not JSON, and not ASCII either: the close reason (123 bytes at most) is cut on a character.
      [`{"op":${'\u20ac'.repeat(200)}`, { code: 'E_BAD_REQUEST', field: '(frame)' }],
    ];
    for (const [frame, want] of bad) {
      const ws = await env.raw();
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(frame);
      ws.send(frame);
      expect(await closed).toBe(1008);
      const statuses = frames(ws).got.filter((m) => m.op === 'status');
      expect(statuses).toHaveLength(1);
      expect(statuses[0]).toMatchObject({ level: 'error', ...want });
      expect(statuses[0]!.msg).toMatch(/before authenticating: closing$/);
    }
  });

  it('a client that sends a frame too early can still authenticate and drive', async () => {
    env = await startEndpoint();
    const ws = await env.raw();
    const f = frames(ws);
    for (let i = 0; i < FRAMES_BEFORE_AUTH - 1; i++)
      ws.send(JSON.stringify({ op: 'publish', id: `early${i}`, topic: '/cmd_vel', msg: {} }));
    await f.next((m) => m.id === `early${FRAMES_BEFORE_AUTH - 2}`);
    const got = firstValueFrom(env.app.subscribe(Topics.twist).pipe(filter((t) => t.linear.x === 0.2)));
    ws.send(JSON.stringify({ op: 'auth', mac: await token('olga', 'operator') }));
    // Ops after the auth op wait for its verdict, however many there are.
    for (let i = 0; i < 2 * FRAMES_BEFORE_AUTH; i++)
      ws.send(
        JSON.stringify({
          op: 'publish',
          topic: '/cmd_vel',
          msg: { linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
        }),
      );
    await got;
    expect(ws.readyState).toBe(ws.OPEN);
  });
});
