/**
 * The handler table as the one source of what a client may send: each lane listens for the events
 * the table gives it, and every event with a request schema refuses a malformed body by naming the
 * field — answered through the same path as a real request, over a real gateway.
 */
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SOCKETS } from '../src/client/index.js';
import type { ClientLane } from '../src/protocol.js';
import { CLIENT_EVENTS, handlers } from '../src/server/handlers.js';
import { startGateway } from './helpers.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe('the handler table', () => {
  it('derives each lane’s events: every event is on at least one lane, and lanes differ where the table says', () => {
    const all = Object.keys(handlers);
    expect(new Set([...CLIENT_EVENTS.control, ...CLIENT_EVENTS.telemetry])).toEqual(new Set(all));
    for (const lane of ['control', 'telemetry'] as const)
      for (const event of CLIENT_EVENTS[lane])
        expect(handlers[event].lanes as readonly string[], `${event} on ${lane}`).toContain(lane);
    expect(CLIENT_EVENTS.telemetry).not.toContain('lease');
    expect(CLIENT_EVENTS.control).not.toContain('req');
  });

  it('every event with a request schema refuses a malformed body by naming its field; the client carries on', async () => {
    // 28 refusals in a moment: more than a sender is answered by default (20/s), so the threshold is raised.
    const g = await startGateway({ limits: { quietAfter: 100 } });
    cleanup.push(() => g.close());
    const c = g.client();
    await c.connect();
    const sockets = (c as unknown as Record<symbol, Record<ClientLane, Socket>>)[SOCKETS]!;
    let checked = 0;
    for (const lane of ['control', 'telemetry'] as const) {
      for (const event of CLIENT_EVENTS[lane]) {
        if (handlers[event].schema === 'per-topic') continue;
        for (const body of [{ bogus: 1 }, 'text', null, [1, 2]]) {
          const answer = await sockets[lane].timeout(20_000).emitWithAck(event, body);
          const what = `${event} on ${lane} with ${JSON.stringify(body)}`;
          if (event === 'lease') expect(answer, what).toMatchObject({ granted: false, reason: 'invalid' });
          else {
            expect(answer, what).toMatchObject({ ok: false, error: { code: 'E_BAD_REQUEST' } });
            const { error } = answer as { error: { message: string; field?: string } };
            expect(error.field, what).toEqual(expect.any(String));
            expect(error.message, what).toMatch(
              new RegExp(`^invalid [a-z ]+: ${escapeRegExp(error.field!)}: `),
            );
          }
          checked++;
        }
      }
    }
    // sub, unsub, time, rtc on control; sub, unsub on telemetry; lease on control — four bodies each.
    expect(checked).toBe(7 * 4);
    // Refusals of malformed requests cost the sender nothing else: it still subscribes and drives.
    const lease = await c.requestControl();
    expect(lease).toMatchObject({ granted: true, holder: { id: c.clientId } });
  });
});

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
