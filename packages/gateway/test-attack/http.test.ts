/**
 * The HTTP surface: health endpoints, the admin-only ones, path traversal, tokens in URLs, oversized
 * headers, slowloris, malformed upgrades, engine.io session hijacking, and browser origins.
 */

import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ALLOWED_ORIGIN, SLOWLORIS_CUT_MS } from './config.js';
import { dribble, get, rawHttp } from './harness/http.js';
import { fate, join, now, open, sleep, twist } from './harness/lanes.js';
import { addresses, HandshakeRefused, RawClient } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import type { Target } from './harness/target.js';
import { craft, issuedTokens, signatureOf, token, unsecured } from './harness/tokens.js';

const t = useTarget('default');
const listed = useTarget('origins');
const from = addresses(70);

const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });

describe('health and observability endpoints', () => {
  it('/healthz is open and says {"status":"ok"} and nothing else', async () => {
    const res = await fetch(`${t.target.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-powered-by')).toBeNull();
    await t.intact();
  });

  it('/metrics and /readyz need an admin bearer token: 401 without one, 403 for other roles', async () => {
    const s = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, string>, number][] = [
      ['no token', {}, 401],
      ['a garbage bearer', bearer('garbage'), 401],
      ['an empty bearer', { authorization: 'Bearer ' }, 401],
      ['basic auth', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }, 401],
      ['alg: none claiming admin', bearer(unsecured('root', 'admin')), 401],
      ['an expired admin token', bearer(await token('root', 'admin', { iat: s - 7200, exp: s - 3600 })), 401],
      ['an admin token without exp', bearer(await craft({ sub: 'root', role: 'admin', exp: null })), 401],
      ['a viewer', bearer(await token('v', 'viewer')), 403],
      ['an operator', bearer(await token('o', 'operator')), 403],
    ];
    for (const path of ['/metrics', '/readyz']) {
      for (const [what, headers, status] of cases) {
        const res = await fetch(`${t.target.url}${path}`, { headers });
        expect(res.status, `${path} with ${what}`).toBe(status);
        expect(await res.text(), `${path} with ${what}`).not.toMatch(/# HELP|# TYPE|"plugins"/);
      }
      const admin = await fetch(`${t.target.url}${path}`, { headers: bearer(await token('root', 'admin')) });
      expect(admin.status, `${path} with an admin token`).toBe(200);
      // A token in the query string is not accepted (it would end up in logs and histories).
      const query = await fetch(`${t.target.url}${path}?token=${await token('root', 'admin')}`);
      expect(query.status, `${path} with an admin token in the query`).toBe(401);
    }
    await t.intact();
  });

  it('spellings of /metrics and /readyz do not slip past the check', async () => {
    const paths = [
      '/METRICS',
      '/metrics/',
      '//metrics',
      '/./metrics',
      '/%6detrics',
      '/%6Detrics',
      '/healthz/../metrics',
      '/x/../metrics',
      '/metrics;x',
      '/metrics%00',
      '/metrics?',
      '/metrics#x',
      '/readyz/',
      '/%72eadyz',
      '/healthz/../readyz',
      'http://127.0.0.1/metrics',
      '*',
    ];
    for (const path of paths) {
      const res = await get(t.target, path);
      expect(res.text, path).not.toMatch(/# HELP|# TYPE|"plugins"/);
      if (res.status === 200) expect(res.text, path).toMatch(/console|"status":"ok"/);
    }
    await t.intact();
  });
});

describe('path traversal', () => {
  it('no spelling of .. reaches the file above the static directory, nor /etc/passwd', async () => {
    expect((await get(t.target, '/index.html')).text, 'the static directory is served').toContain(
      '<title>console',
    );
    const paths = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/....//secret.txt',
      '/.%2e/secret.txt',
      '/index.html/../../secret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/media/hls/..%2f..%2fsecret.txt',
      '/media/hls/x/..%2f..%2f..%2fsecret.txt',
      '/media/hls/../../secret.txt',
      '/../../../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/socket.io/../../secret.txt',
      '/secret.txt%00.html',
    ];
    for (const path of paths) {
      const res = await get(t.target, path);
      expect(res.text, path).not.toContain('TRAVERSAL-SECRET');
      expect(res.text, path).not.toMatch(/root:.*:0:0:/);
    }
    await t.intact();
  });
});

describe('tokens in URLs, oversized headers, slowloris', () => {
  it('a token in a URL never appears in a log line, even when the route fails', async () => {
    const tok = await token('urlleak', 'admin');
    const paths = [
      `/boom?token=${tok}`,
      `/healthz?token=${tok}`,
      `/metrics?token=${tok}`,
      `/readyz?access_token=${tok}`,
      `/media/hls/cam/index.m3u8?token=${tok}`,
      `/nope?token=${tok}`,
      `/socket.io/?EIO=4&transport=polling&token=${tok}`,
      `/socket.io/?EIO=3&transport=websocket&token=${tok}`,
      `/%zz?token=${tok}`,
    ];
    for (const path of paths)
      await get(t.target, path, { 'X-Token': tok, Referer: `http://x/?token=${tok}` });
    expect((await get(t.target, `/boom?token=${tok}`)).status, 'the failing route').toBe(500);
    await sleep(300);
    const logs = t.target.output();
    expect(logs, 'the failing route was not logged at all: is the logger wired?').toMatch(/boom|route|http/i);
    expect(logs.includes(tok) || logs.includes(signatureOf(tok)), 'a URL token is in the logs').toBe(false);
    const leaked = issuedTokens().filter((x) => signatureOf(x).length >= 16 && logs.includes(signatureOf(x)));
    expect(leaked.length, 'tokens in the logs').toBe(0);
    await t.intact();
  });

  it('a token in the path of a failing route is not logged either (JWT-shaped strings are redacted)', async () => {
    const tok = await token('pathleak', 'operator');
    expect((await get(t.target, `/boom/${tok}`)).status).toBe(500);
    expect((await get(t.target, `/media/hls/${tok}/index.m3u8`)).status).not.toBe(200);
    await sleep(300);
    const logs = t.target.output();
    expect(logs.includes(signatureOf(tok)), 'a token in a URL path is in the logs').toBe(false);
    await t.intact();
  });

  it('oversized headers are refused (431 or a closed connection); the gateway carries on', async () => {
    const big = await rawHttp(
      t.target,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(32_000)}\r\n\r\n`,
    );
    expect(big.status === 431 || big.status === 400 || big.status === undefined, `status ${big.status}`).toBe(
      true,
    );
    const huge = await rawHttp(
      t.target,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(1_000_000)}\r\n\r\n`,
    );
    expect(
      huge.status === 431 || huge.status === 400 || huge.status === undefined,
      `status ${huge.status}`,
    ).toBe(true);
    const many = await rawHttp(
      t.target,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Array.from({ length: 3_000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`,
    );
    expect(
      many.status === 200 || many.status === 431 || many.status === 400 || many.status === undefined,
    ).toBe(true);
    // A WebSocket upgrade with oversized headers too.
    const upgrade = await rawHttp(
      t.target,
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\nX-Big: ${'u'.repeat(64_000)}\r\n\r\n`,
    );
    expect(upgrade.status === 101, 'an upgrade with 64 kB of headers was accepted').toBe(false);
    await t.intact();
  });

  it(`slowloris (headers dribbled, or nothing sent) is cut within ${SLOWLORIS_CUT_MS / 1000} s, and meanwhile the operator is served`, async () => {
    const slow = [
      ...Array.from({ length: 20 }, () =>
        dribble(t.target, {
          first: `GET /healthz HTTP/1.1\r\nHost: ${t.target.host}\r\n`,
          everyMs: 2_000,
          localAddress: from(),
        }),
      ),
      ...Array.from({ length: 10 }, () =>
        dribble(t.target, {
          first: `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${t.target.host}\r\nUpgrade: websocket\r\n`,
          everyMs: 2_000,
          localAddress: from(),
        }),
      ),
      ...Array.from({ length: 10 }, () =>
        dribble(t.target, { first: '', everyMs: 3_600_000, localAddress: from() }),
      ),
      ...Array.from({ length: 10 }, () =>
        dribble(t.target, { first: 'GET /heal', everyMs: 3_600_000, localAddress: from() }),
      ),
    ];
    await sleep(1_000);
    await t.intact();
    const cutAfter = await Promise.all(
      slow.map((s) =>
        Promise.race([s.closedAt, sleep(SLOWLORIS_CUT_MS + 5_000).then(() => Number.POSITIVE_INFINITY)]),
      ),
    );
    for (const s of slow) s.socket.destroy();
    const open = cutAfter.filter((ms) => ms > SLOWLORIS_CUT_MS).length;
    expect(open, `slow connections still open after ${SLOWLORIS_CUT_MS / 1000} s (of ${slow.length})`).toBe(
      0,
    );
    await t.intact();
  });
});

describe('upgrades and engine.io sessions', () => {
  it('malformed upgrades are refused and the gateway carries on', async () => {
    const key = Buffer.alloc(16, 7).toString('base64');
    const upgrade = (query: string, extra = '') =>
      rawHttp(
        t.target,
        `GET /socket.io/?${query} HTTP/1.1\r\nHost: ${t.target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`,
        { timeoutMs: 3_000 },
      );
    const cases: [string, ReturnType<typeof rawHttp>][] = [
      ['no Sec-WebSocket-Key', upgrade('EIO=4&transport=websocket', 'Sec-WebSocket-Version: 13\r\n')],
      [
        'version 99',
        upgrade('EIO=4&transport=websocket', `Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: ${key}\r\n`),
      ],
      [
        'EIO=3',
        upgrade('EIO=3&transport=websocket', `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`),
      ],
      [
        'transport=polling',
        upgrade('EIO=4&transport=polling', `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`),
      ],
      [
        'an unknown sid',
        upgrade(
          'EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA',
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`,
        ),
      ],
      [
        'an unknown transport',
        upgrade('EIO=4&transport=webtransport', `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`),
      ],
    ];
    for (const [what, answer] of cases) {
      // Refused before the upgrade, or upgraded and closed before engine.io opened a session.
      const res = await answer;
      expect(res.status !== 101 || !res.text.includes('"sid"'), `${what}: an engine.io session opened`).toBe(
        true,
      );
    }
    const polling = await fetch(`${t.target.url}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status, 'long-polling is off by default').not.toBe(200);
    await t.intact();
  });

  it('a leaked engine.io sid does not let anyone take over a live connection', async () => {
    // The victim holds the lease on /control over a WebSocket.
    const victim = await join(t.target, { token: await token('victim', 'operator') }, { from: from() });
    expect(await victim.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
    // The attacker knows its engine.io sid (say from a log) and asks to "upgrade" to it.
    const hijacker = new WebSocket(
      `${t.target.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${victim.client.open.sid}`,
      { localAddress: from(), perMessageDeflate: false },
    );
    const got: string[] = [];
    hijacker.on('message', (d, binary) => got.push(binary ? `binary ${(d as Buffer).length}` : d.toString()));
    hijacker.on('error', () => {});
    hijacker.on('unexpected-response', (_req, res) => {
      res.resume();
      hijacker.terminate();
    });
    hijacker.on('open', () => {
      hijacker.send('2probe');
      setTimeout(() => hijacker.readyState === WebSocket.OPEN && hijacker.send('5'), 200);
    });
    await sleep(1_500);
    const traffic = got.filter((m) => m !== '6');
    expect(traffic, 'the gateway went along with an upgrade to a live WebSocket session').toEqual([]);
    // The victim's connection is its own still: it is answered, and it still drives.
    expect(victim.client.isOpen, 'the victim lost its connection').toBe(true);
    expect(await victim.ask('time', { t0: now() })).toMatchObject({ t1: expect.any(Number) });
    expect(fate(await victim.pub('/controller/twist', twist(0.66)))).toBe('ok');
    hijacker.terminate();
    await t.intact();
  });
});

/** Opens a WebSocket handshake with headers; resolves with 'open' or the HTTP status. */
async function handshake(target: Target, headers: Record<string, string>): Promise<'open' | number | string> {
  try {
    const c = await RawClient.open(target.url, { headers, localAddress: from() });
    c.kill();
    return 'open';
  } catch (error) {
    if (error instanceof HandshakeRefused) return error.status ?? error.message;
    throw error;
  }
}

describe('browser origins', () => {
  it('default: a foreign Origin is refused with 403; same origin and no Origin pass', async () => {
    const host = t.target.host;
    expect(await handshake(t.target, {}), 'no Origin (not a browser)').toBe('open');
    expect(await handshake(t.target, { Origin: `http://${host}` }), 'same origin').toBe('open');
    for (const origin of [
      'http://evil.example',
      'null',
      `http://${host}.evil.example`,
      `http://evil.example/${host}`,
      `http://evil.example:${t.target.port}`,
      'http://localhost.evil.example',
      'file://',
      `http://${host}@evil.example`,
    ])
      expect(await handshake(t.target, { Origin: origin }), `Origin ${origin}`).toBe(403);
    await t.intact();
  });

  it('with an allow-list: only listed origins pass, even when the Host header agrees with the Origin (DNS rebinding)', async () => {
    expect(await handshake(listed.target, { Origin: ALLOWED_ORIGIN }), ALLOWED_ORIGIN).toBe('open');
    expect(await handshake(listed.target, {}), 'no Origin').toBe('open');
    expect(
      await handshake(listed.target, { Origin: 'http://rebound.example', Host: 'rebound.example' }),
      'a rebound name',
    ).toBe(403);
    expect(await handshake(listed.target, { Origin: `${ALLOWED_ORIGIN}.evil.example` }), 'a suffix').toBe(
      403,
    );
    await listed.intact();
  });

  it('a refused origin gets no session: nothing is served on the refused handshake', async () => {
    const refused = await open(t.target, { origin: 'http://evil.example', localAddress: from() }).then(
      () => 'open',
      (e: unknown) => (e instanceof HandshakeRefused ? e.status : String(e)),
    );
    expect(refused).toBe(403);
    await t.intact();
  });
});
