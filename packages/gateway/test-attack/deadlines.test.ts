/**
 * Deadlines the client cannot choose: stamps in the past and the future, a `header.ttl` of a minute,
 * a higher seq with an older stamp, absurd clock probes; and acknowledgements that tell each
 * command's fate at the gate, checked against what the robot received.
 */
import { describe, expect, it } from 'vitest';
import { MOTION_TTL_MS } from './config.js';
import { estop, fate, type Joined, join, now, twist } from './harness/lanes.js';
import { addresses } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { type Role, token } from './harness/tokens.js';

const t = useTarget('default');
const from = addresses(50);
let n = 0;
let marker = 0.5;
const nextMarker = () => {
  marker += 0.001;
  return Math.round(marker * 1000) / 1000;
};

const as = async (role: Role, name = role) =>
  join(t.target, { token: await token(`${name}-${++n}`, role) }, { from: from() });

async function holder(): Promise<Joined> {
  const h = await as('operator', 'holder');
  expect(await h.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
  return h;
}

/** The markers (linear.x) of every twist the robot received. */
const received = async () => new Set((await t.target.robot()).twists.map((tw) => tw.x));

describe('deadlines the server bounds', () => {
  it('a fresh twist is admitted and actuated (the baseline of the cases below)', async () => {
    const h = await holder();
    const x = nextMarker();
    expect(fate(await h.pub('/controller/twist', twist(x)))).toBe('ok');
    await expect.poll(async () => (await received()).has(x)).toBe(true);
    await t.intact();
  });

  it('a twist stamped 10 s in the past or 30 s in the future is refused as stale and never actuated', async () => {
    const h = await holder();
    const past = nextMarker();
    const future = nextMarker();
    expect(fate(await h.pub('/controller/twist', twist(past, { stampShift: -10_000 })))).toBe('E_STALE');
    expect(fate(await h.pub('/controller/twist', twist(future, { stampShift: 30_000 })))).toBe('E_STALE');
    const r = await received();
    expect(r.has(past) || r.has(future)).toBe(false);
    await t.intact();
  });

  it(`header.ttl of 60 000 does not extend the topic's ${MOTION_TTL_MS} ms deadline`, async () => {
    const h = await holder();
    const x = nextMarker();
    const y = nextMarker();
    expect(fate(await h.pub('/controller/twist', twist(x, { stampShift: -1_000, ttl: 60_000 })))).toBe(
      'E_STALE',
    );
    expect(
      fate(await h.pub('/controller/twist', twist(y, { stampShift: -3 * MOTION_TTL_MS, ttl: 60_000 }))),
    ).toBe('E_STALE');
    const r = await received();
    expect(r.has(x) || r.has(y)).toBe(false);
    await t.intact();
  });

  it('a higher seq with an older stamp is refused as out of order', async () => {
    const h = await holder();
    // On a slow machine the first may itself go stale: try a few times.
    for (let attempt = 0; ; attempt++) {
      const first = twist(nextMarker());
      const a = fate(await h.pub('/controller/twist', first));
      if (a !== 'ok' && attempt < 3) continue;
      expect(a).toBe('ok');
      const later = nextMarker();
      const older = twist(later, { stamp: first.header.stamp - 40, seq: first.header.seq + 10 });
      expect(fate(await h.pub('/controller/twist', older))).toBe('E_OUT_OF_ORDER');
      expect((await received()).has(later)).toBe(false);
      break;
    }
    await t.intact();
  });
});

describe('clock probes', () => {
  it('absurd time probes are refused with E_BAD_REQUEST', async () => {
    const h = await holder();
    const probes: [string, Record<string, unknown>][] = [
      ['rtt 1e15', { t0: now(), offset: 0, rtt: 1e15 }],
      ['rtt -1', { t0: now(), offset: 0, rtt: -1 }],
      ['rtt 10 001', { t0: now(), offset: 0, rtt: 10_001 }],
      ['rtt NaN', { t0: now(), offset: 0, rtt: Number.NaN }],
      ['rtt Infinity', { t0: now(), offset: 0, rtt: Number.POSITIVE_INFINITY }],
      ['an offset of +5 s with a 2 ms round trip on this clock', { t0: now(), offset: 5_000, rtt: 2 }],
      ['an offset of -5 s with a 2 ms round trip on this clock', { t0: now(), offset: -5_000, rtt: 2 }],
      ['an offset of 1e12', { t0: now(), offset: 1e12, rtt: 2 }],
      ['an offset of NaN', { t0: now(), offset: Number.NaN, rtt: 2 }],
    ];
    for (const [what, probe] of probes) expect(fate(await h.ask('time', probe)), what).toBe('E_BAD_REQUEST');
    await t.intact();
  });

  it('a refused probe leaves the offset alone: a twist stamped 5 s ago is still stale', async () => {
    const h = await holder();
    expect(fate(await h.ask('time', { t0: now(), offset: 5_000, rtt: 2 }))).toBe('E_BAD_REQUEST');
    const x = nextMarker();
    expect(fate(await h.pub('/controller/twist', twist(x, { stampShift: -5_000 })))).toBe('E_STALE');
    expect((await received()).has(x)).toBe(false);
    await t.intact();
  });

  it('a report of an earlier probe that cannot be true is refused with E_BAD_REQUEST', async () => {
    // The gateway may estimate the offset itself from the client's report of the previous exchange
    // (its t0 and the client's receive time t3): impossible reports are absurd probes too.
    const h = await holder();
    const t0 = now();
    expect(await h.ask('time', { t0 })).toMatchObject({ t1: expect.any(Number) });
    const reports: [string, Record<string, unknown>][] = [
      ['a t0 that was never sent', { t0: now(), last: { t0: t0 - 12_345, t3: now() } }],
      ['t3 before t0', { t0: now(), last: { t0, t3: t0 - 1 } }],
      ['a round trip of 20 s', { t0: now(), last: { t0, t3: t0 + 20_000 } }],
      ['a round trip of 1e15 ms', { t0: now(), last: { t0, t3: t0 + 1e15 } }],
    ];
    for (const [what, probe] of reports) expect(fate(await h.ask('time', probe)), what).toBe('E_BAD_REQUEST');
    await t.intact();
  });

  it('a plain probe is answered with the server times', async () => {
    const h = await holder();
    const answer = (await h.ask('time', { t0: now() })) as { t1: number; t2: number };
    expect(answer).toMatchObject({ t1: expect.any(Number), t2: expect.any(Number) });
    expect(answer.t2).toBeGreaterThanOrEqual(answer.t1);
    await t.intact();
  });
});

describe('acknowledgements tell the truth', () => {
  it('each ack reports the fate at the gate, and only admitted twists reach the robot', async () => {
    const h = await holder();
    const other = await as('operator', 'other');
    const viewer = await as('viewer');
    const admin = await as('admin');
    const telemetry = await join(
      t.target,
      { token: await token(`tel-${++n}`, 'operator') },
      { nsp: '/telemetry', from: from() },
    );
    const cases: { what: string; send: (x: number) => Promise<unknown>; expected: string }[] = [
      // Stale before anything was admitted (afterwards it would also be out of order).
      {
        what: 'stale',
        send: (x) => h.pub('/controller/twist', twist(x, { stampShift: -2_000 })),
        expected: 'E_STALE',
      },
      { what: 'fresh, from the holder', send: (x) => h.pub('/controller/twist', twist(x)), expected: 'ok' },
      {
        what: 'from an operator without the lease',
        send: (x) => other.pub('/controller/twist', twist(x)),
        expected: 'E_NOT_HOLDER',
      },
      {
        what: 'from a viewer',
        send: (x) => viewer.pub('/controller/twist', twist(x)),
        expected: 'E_FORBIDDEN',
      },
      {
        what: 'on the telemetry lane',
        send: (x) => telemetry.pub('/controller/twist', twist(x)),
        expected: 'E_WRONG_LANE',
      },
      {
        what: 'to an unknown topic',
        send: (x) => h.pub('/controller/warp', twist(x)),
        expected: 'E_UNKNOWN_TOPIC',
      },
      {
        what: 'with a field of the wrong type',
        send: (x) => h.pub('/controller/twist', { ...twist(x), angular: { x: 0, y: 0, z: 'fast' } }),
        expected: 'E_VALIDATION',
      },
      { what: 'fresh again', send: (x) => h.pub('/controller/twist', twist(x)), expected: 'ok' },
    ];
    const fates = new Map<number, string>();
    for (const c of cases) {
      const x = nextMarker();
      const got = fate(await c.send(x));
      fates.set(x, got);
      expect(got, c.what).toBe(c.expected);
    }
    // While the e-stop is engaged, the ack says so (it used to say ok, then drop the command).
    expect(fate(await admin.pub('/controller/estop', estop(true, { reason: 'fate check' })))).toBe('ok');
    const blocked = nextMarker();
    fates.set(blocked, fate(await h.pub('/controller/twist', twist(blocked))));
    expect(fates.get(blocked)).toBe('E_ESTOP');
    expect(fate(await admin.pub('/controller/estop', estop(false)))).toBe('ok');
    const after = nextMarker();
    fates.set(after, fate(await h.pub('/controller/twist', twist(after))));
    expect(fates.get(after)).toBe('ok');

    await expect.poll(async () => (await received()).has(after)).toBe(true);
    const r = await received();
    for (const [x, f] of fates) expect(r.has(x), `twist ${x} acked ${f}`).toBe(f === 'ok');
    await t.intact();
  });
});
