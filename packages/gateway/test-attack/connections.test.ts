/**
 * Connections that never authenticate, too many from one address (with or without a forged
 * X-Forwarded-For), and a client that floods refused commands: closed, capped and cut off, while the
 * legitimate operator keeps driving.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AUTH_TIMEOUT_MS,
  AUTH_TIMEOUT_SLACK_MS,
  PRE_AUTH_CONNECTIONS_PER_ADDRESS,
  PRE_HEADER_CONNECTIONS_PER_ADDRESS,
} from './config.js';
import { dribble, rawHttp } from './harness/http.js';
import { isEvent, join, now, open, sleep, twist } from './harness/lanes.js';
import { addresses, PacketType, type RawClient } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { token } from './harness/tokens.js';

const t = useTarget('default');
const from = addresses(80);

describe('connections that never authenticate', () => {
  it(`200 unauthenticated engine.io sockets (answering pings) are closed about ${AUTH_TIMEOUT_MS / 1000} s after they open; authenticated ones stay`, async () => {
    const authed = await join(t.target, { token: await token('patient', 'operator') }, { from: from() });
    const sockets: RawClient[] = [];
    for (let i = 0; i < 200; i += 20)
      sockets.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => open(t.target, { localAddress: from() })))),
      );
    // Some knock on the refusing default namespace, some send junk that is not a violation.
    for (const [i, c] of sockets.entries()) {
      if (i % 4 === 1) void c.connect('/').catch(() => undefined);
      if (i % 4 === 2) c.sendText('3');
    }
    const opened = performance.now();
    const deadline = AUTH_TIMEOUT_MS + AUTH_TIMEOUT_SLACK_MS;
    const closed = await Promise.all(
      sockets.map((c) =>
        c.waitClosed(deadline).then(
          () => true,
          () => false,
        ),
      ),
    );
    const stillOpen = closed.filter((c) => !c).length;
    expect(
      stillOpen,
      `unauthenticated sockets still open ${Math.round((performance.now() - opened) / 1000)} s later`,
    ).toBe(0);
    // The authenticated connection was not swept up with them.
    expect(authed.client.isOpen).toBe(true);
    expect(await authed.ask('time', { t0: now() })).toMatchObject({ t1: expect.any(Number) });
    await t.intact();
  });

  it(`one address holds at most ${PRE_AUTH_CONNECTIONS_PER_ADDRESS} unauthenticated connections, whatever X-Forwarded-For says`, async () => {
    for (const forged of [false, true]) {
      const address = from();
      const attempts = await Promise.all(
        Array.from({ length: 3 * PRE_AUTH_CONNECTIONS_PER_ADDRESS }, (_, i) =>
          open(t.target, {
            localAddress: address,
            timeoutMs: 5_000,
            ...(forged
              ? {
                  headers: {
                    'X-Forwarded-For': `10.9.${i >> 8}.${i & 255}`,
                    'X-Real-IP': `10.8.0.${i & 255}`,
                  },
                }
              : {}),
          }).catch(() => undefined),
        ),
      );
      await sleep(500);
      const held = attempts.filter((c) => c?.isOpen).length;
      expect(held, `${forged ? 'with' : 'without'} forged X-Forwarded-For`).toBeGreaterThan(0);
      expect(held, `${forged ? 'with' : 'without'} forged X-Forwarded-For`).toBeLessThanOrEqual(
        PRE_AUTH_CONNECTIONS_PER_ADDRESS,
      );
      for (const c of attempts) c?.kill();
      await sleep(200);
    }
    // Meanwhile another address is not affected.
    const other = await join(t.target, { token: await token('neighbour', 'operator') }, { from: from() });
    expect(other.client.isOpen).toBe(true);
    await t.intact();
  });
});

describe('connections that never send their headers', () => {
  it(`one address holds at most ${PRE_HEADER_CONNECTIONS_PER_ADDRESS} connections before their headers; more are closed at once, others are served`, async () => {
    const address = from();
    const extra = 8;
    const idle: { socket: Socket; closed: boolean }[] = [];
    // One at a time, so the gateway accepts them in this order: the last `extra` are over the cap.
    for (let i = 0; i < PRE_HEADER_CONNECTIONS_PER_ADDRESS + extra; i++) {
      const d = dribble(t.target, { first: '', everyMs: 3_600_000, localAddress: address });
      const c = { socket: d.socket, closed: false };
      void d.closedAt.then(() => {
        c.closed = true;
      });
      idle.push(c);
      await new Promise<void>((resolve) => {
        d.socket.once('connect', () => resolve());
        d.socket.once('close', () => resolve());
      });
    }
    const closed = () => idle.filter((c) => c.closed).length;
    // The header timeout (10 s) would close all of them together: only the extra ones close now.
    await expect.poll(closed).toBe(extra);
    expect(idle.slice(0, PRE_HEADER_CONNECTIONS_PER_ADDRESS).every((c) => !c.closed)).toBe(true);
    // Meanwhile the operator (another address) drives.
    await t.intact();

    // Only connections without their headers count: one that sends its request frees its place.
    const [first] = idle;
    first!.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${t.target.host}\r\n\r\n`);
    const answered = await new Promise<string>((resolve) =>
      first!.socket.once('data', (d) => resolve(String(d))),
    );
    expect(answered).toMatch(/^HTTP\/1\.1 200/);
    const request = `GET /healthz HTTP/1.1\r\nHost: ${t.target.host}\r\nConnection: close\r\n\r\n`;
    expect((await rawHttp(t.target, request, { localAddress: address })).status).toBe(200);

    // Once the idle ones are gone, the address connects and joins as before.
    for (const c of idle) c.socket.destroy();
    const back = await join(t.target, { token: await token('returning', 'operator') }, { from: address });
    expect(back.client.isOpen).toBe(true);
    await t.intact();
  });
});

describe('offenders', () => {
  it('a client flooding refused commands without acks gets faults, then silence, then is disconnected', async () => {
    const holder = await join(t.target, { token: await token('holder', 'operator') }, { from: from() });
    expect(await holder.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
    const pest = await join(t.target, { token: await token('pest', 'operator') }, { from: from() });
    const c = pest.client;
    let sent = 0;
    // Twists without acks from a session that does not hold the lease: each one is refused.
    const deadline = performance.now() + 60_000;
    while (c.isOpen && performance.now() < deadline) {
      c.batch(() => {
        for (let i = 0; i < 200; i++) c.emit('/control', 'pub', '/controller/twist', twist(0.1));
      });
      sent += 200;
      await sleep(20);
    }
    const faults = c.packets.filter((p) => isEvent(p, 'fault')).length;
    expect(c.isOpen, `still connected after ${sent} refused commands`).toBe(false);
    expect(faults, 'no fault was sent at all').toBeGreaterThan(0);
    expect(faults, `${faults} faults for ${sent} refused commands: refusals were not silenced`).toBeLessThan(
      sent / 4,
    );
    // The holder was never disturbed.
    expect(holder.client.isOpen).toBe(true);
    expect(await holder.pub('/controller/twist', twist(0.42))).toEqual({ ok: true });
    // No ack was ever asked for, so none came.
    expect(c.packets.filter((p) => p.type === PacketType.ACK)).toEqual([]);
    await t.intact();
  });
});
