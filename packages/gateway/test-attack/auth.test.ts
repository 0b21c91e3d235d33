/**
 * Authentication at the handshake, attacked with raw CONNECT packets: missing, malformed, expired,
 * unsigned (`alg: none`), wrongly signed, never-expiring, future-issued and overlong tokens. Each is
 * refused with `{ code: 'E_AUTH', reason }`; valid tokens still pass; no token ever reaches a log.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_S, MAX_TOKEN_LIFETIME_S, SECRET } from './config.js';
import { type Lane, now, open, tryJoin } from './harness/lanes.js';
import { addresses, PacketType } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { craft, issuedTokens, signatureOf, token, unsecured, wrongSecret } from './harness/tokens.js';

const t = useTarget('default');
const from = addresses(20);
const s = () => Math.floor(Date.now() / 1000);
const LANES: Lane[] = ['/control', '/telemetry'];

/** Swaps a token's payload for another's, keeping the first signature. */
const spliced = (a: string, b: string) => {
  const [h, , sig] = a.split('.');
  return `${h}.${b.split('.')[1]}.${sig}`;
};

async function badAuth(): Promise<[string, unknown][]> {
  const good = await token('mallory', 'operator');
  const admin = await token('root', 'admin');
  const hs512 = await craft({ sub: 'mallory', role: 'operator' }, { alg: 'HS512' });
  const none = unsecured('mallory', 'admin');
  return [
    ['no auth payload', undefined],
    ['an empty auth payload', {}],
    ['an empty token', { token: '' }],
    ['a garbage token', { token: 'garbage' }],
    ['three empty segments', { token: '..' }],
    ['a 10 kB token', { token: 'e'.repeat(10_000) }],
    ['a number for a token', { token: 42 }],
    ['a map for a token', { token: { sub: 'root', role: 'admin' } }],
    ['an expired token', { token: await token('mallory', 'operator', { iat: s() - 3600, exp: s() - 60 }) }],
    ['alg: none', { token: none }],
    ['alg: none with a signature appended', { token: `${none}${signatureOf(good)}` }],
    ['a token signed with another secret', { token: await wrongSecret('root', 'admin') }],
    ['a token without its signature', { token: good.split('.').slice(0, 2).join('.') }],
    ["an admin's claims under an operator's signature", { token: spliced(good, admin) }],
    ['HS512 with the right secret (not an allowed algorithm)', { token: hs512 }],
    ['a token without exp', { token: await token('mallory', 'operator', { exp: null }) }],
    ['a token without iat', { token: await token('mallory', 'operator', { iat: null }) }],
    [
      'iat an hour in the future',
      { token: await token('mallory', 'operator', { iat: s() + 3600, exp: s() + 7200 }) },
    ],
    [
      'a lifetime of twice the maximum',
      { token: await token('mallory', 'operator', { iat: s(), exp: s() + 2 * MAX_TOKEN_LIFETIME_S }) },
    ],
    ['nbf in the future', { token: await token('mallory', 'operator', { nbf: s() + 3600 }) }],
    ['role root', { token: await craft({ sub: 'mallory', role: 'root' }) }],
    ['no role', { token: await craft({ sub: 'mallory', role: null }) }],
    ['no sub', { token: await craft({ sub: null, role: 'operator' }) }],
    ['an empty sub', { token: await craft({ sub: '', role: 'operator' }) }],
    ['a 200-character sub', { token: await craft({ sub: 's'.repeat(200), role: 'operator' }) }],
    ['a numeric sub', { token: await craft({ sub: 7 as unknown as string, role: 'operator' }) }],
    [
      'a role that is an array',
      { token: await craft({ sub: 'mallory', role: ['admin'] as unknown as string }) },
    ],
  ];
}

describe('tokens', () => {
  it('every bad token or auth payload is refused with { code: E_AUTH, reason }, on both lanes', async () => {
    for (const [what, auth] of await badAuth()) {
      for (const nsp of LANES) {
        const r = await tryJoin(t.target, auth, { nsp, from: from() });
        expect(r.ok, `${nsp} ${what}: joined`).toBe(false);
        if (r.ok) continue;
        expect(r.refusal, `${nsp} ${what}`).not.toBe('closed');
        if (r.refusal === 'closed') continue;
        expect(r.refusal.data, `${nsp} ${what}`).toMatchObject({
          code: 'E_AUTH',
          reason: expect.any(String),
        });
      }
    }
    await t.intact();
  });

  it('a CONNECT whose auth payload is not a map is refused or closes the connection', async () => {
    const good = await token('mallory', 'operator');
    for (const [what, auth] of [
      ['a string', good],
      ['an array', [good]],
      ['null', null],
      ['a number', 1],
    ] as const) {
      const r = await tryJoin(t.target, auth, { from: from() });
      expect(r.ok, `an auth payload that is ${what}: joined`).toBe(false);
      if (!r.ok && r.refusal !== 'closed')
        expect(r.refusal.data, what).toMatchObject({ code: 'E_AUTH', reason: expect.any(String) });
    }
    await t.intact();
  });

  it('a refused handshake serves nothing: events sent after it are never answered', async () => {
    const c = await open(t.target, { localAddress: from() });
    const answer = await c.connect('/control', { token: unsecured('mallory', 'admin') });
    expect(answer?.type).toBe(PacketType.CONNECT_ERROR);
    const served = await c.ask('/control', 'lease', [{ action: 'takeover' }], 2_000).catch(() => undefined);
    expect(served).toBeUndefined();
    await t.intact();
  });

  it('valid tokens pass: within the clock tolerance, and just under the maximum lifetime', async () => {
    const ok: [string, string][] = [
      ['a ten-minute token', await token('alice', 'operator')],
      [
        'iat within the clock tolerance ahead',
        await token('alice', 'operator', { iat: s() + CLOCK_TOLERANCE_S - 3, exp: s() + 600 }),
      ],
      [
        'a lifetime just under the maximum',
        await token('alice', 'viewer', { iat: s(), exp: s() + MAX_TOKEN_LIFETIME_S - 60 }),
      ],
    ];
    for (const [what, tok] of ok) {
      const r = await tryJoin(t.target, { token: tok }, { from: from() });
      expect(r.ok, `${what}: ${JSON.stringify(r.ok ? '' : r.refusal)}`).toBe(true);
      if (r.ok) {
        expect(await r.lane.ask('time', { t0: now() })).toMatchObject({ t1: expect.any(Number) });
        r.lane.client.kill();
      }
    }
    await t.intact();
  });

  it('a token in the handshake URL is not a way in, and is not logged either', async () => {
    const tok = await token('urluser', 'operator');
    const c = await open(t.target, { localAddress: from(), query: `EIO=4&transport=websocket&token=${tok}` });
    const answer = await c.connect('/control', {});
    expect(answer?.type ?? 'closed').toBe(PacketType.CONNECT_ERROR);
    c.kill();
    await t.intact();
  });

  it('no token, good or bad, appears in any log line of the gateway', async () => {
    // Everything the cases above sent, plus a burst of joins with good tokens.
    for (let i = 0; i < 5; i++) {
      const r = await tryJoin(
        t.target,
        { token: await token(`logcheck-${i}`, 'operator') },
        { from: from() },
      );
      if (r.ok) r.lane.client.kill();
    }
    await new Promise((r) => setTimeout(r, 500));
    const logs = t.target.output();
    expect(logs.length, 'the gateway logged nothing at debug level: is the logger wired?').toBeGreaterThan(0);
    const leaked = issuedTokens().filter((tok) => {
      const sig = signatureOf(tok);
      return logs.includes(tok) || (sig.length >= 16 && logs.includes(sig));
    });
    expect(leaked.map((tok) => `${tok.slice(0, 24)}…`)).toEqual([]);
    expect(logs).not.toContain(SECRET);
  });
});
