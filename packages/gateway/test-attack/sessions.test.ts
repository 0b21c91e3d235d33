/**
 * Session takeover: a second join of a live lane, a viewer or another principal presenting someone's
 * resume secret, guessed and reused session ids, the old client-chosen `session` field. None of them
 * kicks the holder or takes the lease; limits hold per principal and per address, not per session.
 */
import { describe, expect, it } from 'vitest';
import { ADDRESS_FACTOR, PRINCIPAL_FACTOR, REQUEST_RATE, SESSIONS_PER_PRINCIPAL } from './config.js';
import { fate, type Joined, join, now, sleep, tryJoin, twist } from './harness/lanes.js';
import { addresses } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { token } from './harness/tokens.js';

const t = useTarget('default');
const from = addresses(30);

/** Alice: an operator on the control lane, holding the lease, driving. */
async function alice(sub = 'alice'): Promise<Joined & { token: string }> {
  const tok = await token(sub, 'operator');
  const lane = await join(t.target, { token: tok }, { from: from() });
  expect(lane.resume, 'welcome carries no resume secret').toEqual(expect.any(String));
  expect(lane.clientId, 'welcome carries no clientId').toEqual(expect.any(String));
  expect(await lane.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
  return Object.assign(lane, { token: tok });
}

/** Asserts that `a` is still connected, holds the lease and drives the robot. */
async function stillDriving(a: Joined, marker: number) {
  expect(a.client.isOpen, 'the first session was disconnected').toBe(true);
  expect(fate(await a.pub('/controller/twist', twist(marker)))).toBe('ok');
  await expect.poll(async () => (await t.target.robot()).twists.some((tw) => tw.x === marker)).toBe(true);
}

/**
 * A join that must not land in alice's session: refused (E_AUTH), or a session of its own that
 * does not hold the lease.
 */
async function expectNotAlice(res: Awaited<ReturnType<typeof tryJoin>>, a: Joined, what: string) {
  if (!res.ok) {
    expect(refusalCode(res), what).toSatisfy((c) => c === 'E_AUTH' || c === 'closed');
    return;
  }
  expect(res.lane.clientId, `${what} joined alice's session`).not.toBe(a.clientId);
  expect(fate(await res.lane.pub('/controller/twist', twist(0.95))), what).toBe('E_NOT_HOLDER');
  res.lane.client.kill();
}

const refusalCode = (r: Awaited<ReturnType<typeof tryJoin>>) =>
  r.ok ? `joined as ${r.lane.clientId}` : r.refusal === 'closed' ? 'closed' : r.refusal.data?.code;

describe('joining a live session', () => {
  it('a second join of a live lane is refused with E_SESSION_IN_USE and does not kick the first', async () => {
    const a = await alice();
    for (const auth of [{ token: a.token, resume: a.resume }, { resume: a.resume }]) {
      const r = await tryJoin(t.target, auth, { from: from() });
      // With the secret alone, a gateway that also wants the token may say E_AUTH: refused either way.
      expect(
        auth.token ? ['E_SESSION_IN_USE'] : ['E_SESSION_IN_USE', 'E_AUTH'],
        Object.keys(auth).join('+'),
      ).toContain(refusalCode(r));
    }
    await stillDriving(a, 0.31);
    await t.intact();
  });

  it('the other lane joins with the resume secret; a second join of that lane is refused too', async () => {
    const a = await alice();
    const telemetry = await join(
      t.target,
      { token: a.token, resume: a.resume },
      { nsp: '/telemetry', from: from() },
    );
    expect(telemetry.clientId).toBe(a.clientId);
    const again = await tryJoin(
      t.target,
      { token: a.token, resume: a.resume },
      { nsp: '/telemetry', from: from() },
    );
    expect(refusalCode(again)).toBe('E_SESSION_IN_USE');
    expect(telemetry.client.isOpen).toBe(true);
    await stillDriving(a, 0.32);
    await t.intact();
  });

  it("a viewer token of the same principal cannot join the operator's session", async () => {
    const a = await alice();
    const viewer = await token('alice', 'viewer');
    for (const nsp of ['/control', '/telemetry'] as const) {
      const r = await tryJoin(t.target, { token: viewer, resume: a.resume }, { nsp, from: from() });
      expect(refusalCode(r), nsp).toBe('E_AUTH');
    }
    // Without the secret it is a session of its own, with a viewer's rights.
    const own = await join(t.target, { token: viewer }, { from: from() });
    expect(own.clientId).not.toBe(a.clientId);
    expect(own.welcome.role).toBe('viewer');
    expect(fate(await own.pub('/controller/twist', twist(0.9)))).toBe('E_FORBIDDEN');
    expect(await own.ask('lease', { action: 'takeover' })).toMatchObject({ granted: false });
    await stillDriving(a, 0.33);
    await t.intact();
  });

  it("another principal presenting alice's resume secret is refused with E_AUTH", async () => {
    const a = await alice();
    for (const [sub, role] of [
      ['mallory', 'operator'],
      ['root', 'admin'],
    ] as const) {
      for (const nsp of ['/control', '/telemetry'] as const) {
        const r = await tryJoin(
          t.target,
          { token: await token(sub, role), resume: a.resume },
          { nsp, from: from() },
        );
        expect(refusalCode(r), `${sub} on ${nsp}`).toBe('E_AUTH');
      }
    }
    await stillDriving(a, 0.34);
    await t.intact();
  });
});

describe('guessing and reusing session ids', () => {
  it('guessed, altered or public ids do not join the session nor take the lease', async () => {
    const a = await alice();
    const r = a.resume!;
    const guesses: unknown[] = [
      a.clientId,
      r.slice(0, -1),
      `${r}x`,
      r.toUpperCase() === r ? r.toLowerCase() : r.toUpperCase(),
      `${r.slice(0, -1)}${r.at(-1) === 'A' ? 'B' : 'A'}`,
      '',
      ' ',
      'alice',
      'alice#alice',
      '../alice',
      `${r}\u0000`,
      ...Array.from({ length: 30 }, (_, i) => `${i}`.repeat(r.length).slice(0, r.length)),
    ];
    for (const resume of [...guesses, 42, { $ne: '' }, [r], null, true]) {
      const res = await tryJoin(t.target, { token: a.token, resume }, { from: from() });
      await expectNotAlice(res, a, `resume ${JSON.stringify(resume)}`);
    }
    await stillDriving(a, 0.35);
    await t.intact();
  });

  it('a client-chosen session id (the old `session` field) makes a new session, never alice', async () => {
    const a = await alice();
    const sessionPart = a.clientId!.split('#').at(-1);
    for (const session of [sessionPart, a.clientId, 'alice']) {
      const res = await tryJoin(t.target, { token: a.token, session }, { from: from() });
      await expectNotAlice(res, a, `session ${session}`);
    }
    await stillDriving(a, 0.36);
    await t.intact();
  });

  it('the resume secret is never shown to others: not in welcome, lease or estop events, nor in /metrics', async () => {
    const a = await alice();
    const bob = await join(t.target, { token: await token('bob', 'operator') }, { from: from() });
    await sleep(1_500); // a health round
    const seen = JSON.stringify(bob.client.packets);
    expect(seen).not.toContain(a.resume);
    const metrics = await fetch(`${t.target.url}/metrics`, {
      headers: { authorization: `Bearer ${await token('root', 'admin')}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).not.toContain(a.resume);
    expect(t.target.output()).not.toContain(a.resume);
    await t.intact();
  });

  it('after alice leaves, her secret does not let anyone else into her session', async () => {
    const a = await alice();
    a.client.kill();
    await a.client.closed;
    const mallory = await tryJoin(
      t.target,
      { token: await token('mallory', 'operator'), resume: a.resume },
      { from: from() },
    );
    await expectNotAlice(mallory, a, "mallory with alice's old secret");
    // Alice herself may come back into her session, or be given a new one.
    const back = await tryJoin(t.target, { token: a.token, resume: a.resume }, { from: from() });
    expect(back.ok || refusalCode(back) === 'E_AUTH', `alice coming back: ${refusalCode(back)}`).toBe(true);
    await t.intact();
  });
});

describe('limits per principal and per address', () => {
  it(`one principal holds at most ${SESSIONS_PER_PRINCIPAL} sessions at once, whatever the addresses`, async () => {
    const tok = await token('hoarder', 'operator');
    const results = await Promise.all(
      Array.from({ length: SESSIONS_PER_PRINCIPAL * 3 }, () =>
        tryJoin(t.target, { token: tok }, { from: from() }),
      ),
    );
    const joined = results.filter((r) => r.ok).length;
    expect(joined).toBeGreaterThan(0);
    expect(joined).toBeLessThanOrEqual(SESSIONS_PER_PRINCIPAL);
    await t.intact();
  });

  /** Sends `perSession` time probes (requests) from each lane at once; counts the ones answered. */
  async function flood(lanes: Joined[], perSession: number) {
    const t0 = performance.now();
    const answers = await Promise.all(
      lanes.flatMap((l) =>
        Array.from({ length: perSession }, () =>
          l.client.ask('/control', 'time', [{ t0: now() }], 5_000).catch(() => undefined),
        ),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { ok: answers.filter((a) => typeof (a as { t1?: unknown })?.t1 === 'number').length, seconds };
  }

  it('twenty sessions of one principal share its request budget (not twenty budgets)', async () => {
    const tok = await token('spreader', 'operator');
    const lanes = await Promise.all(
      Array.from({ length: 20 }, () => join(t.target, { token: tok }, { from: from() })),
    );
    const { ok, seconds } = await flood(lanes, 150);
    const budget = PRINCIPAL_FACTOR * (REQUEST_RATE.burst + REQUEST_RATE.rate * seconds);
    // Twenty per-session budgets would admit 20 × 100 at once.
    expect(ok, `admitted ${ok} in ${seconds.toFixed(1)} s`).toBeLessThanOrEqual(Math.ceil(1.5 * budget));
    await t.intact();
  });

  it('twenty principals from one address share its request budget', async () => {
    const address = from();
    const lanes: Joined[] = [];
    // One after the other: the address may hold only a few connections that have not authenticated.
    for (let i = 0; i < 20; i++)
      lanes.push(await join(t.target, { token: await token(`crowd-${i}`, 'operator') }, { from: address }));
    const { ok, seconds } = await flood(lanes, 150);
    const budget = ADDRESS_FACTOR * (REQUEST_RATE.burst + REQUEST_RATE.rate * seconds);
    expect(ok, `admitted ${ok} in ${seconds.toFixed(1)} s`).toBeLessThanOrEqual(Math.ceil(1.5 * budget));
    await t.intact();
  });
});
