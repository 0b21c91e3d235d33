/**
 * One protocol violation per connection: the gateway must close the connection without answering,
 * and must not answer a valid request sent right behind the violation (proof that the connection was
 * closed because of the violation, not later by a timeout).
 *
 * @module
 */
import { expect } from 'vitest';
import { type Lane, open, tryJoin } from './lanes.js';
import { type Packet, PacketType, type RawClient } from './raw.js';
import type { Target } from './target.js';
import { token } from './tokens.js';

let principal = 0;
/** A fresh operator principal, so that per-principal limits never meet two cases. */
export const freshOperator = async (role: 'viewer' | 'operator' | 'admin' = 'operator') =>
  token(`attacker-${process.pid}-${++principal}`, role);

/** What the gateway did about one violation. */
export interface Outcome {
  /** True when the connection closed. */
  closed: boolean;
  /** Answers that came after the violation: ACKs, `fault` events, CONNECT/CONNECT_ERROR. */
  answers: Packet[];
}

const isAnswer = (p: Packet) =>
  p.type === PacketType.ACK ||
  p.type === PacketType.CONNECT ||
  p.type === PacketType.CONNECT_ERROR ||
  (p.type === PacketType.EVENT && Array.isArray(p.data) && p.data[0] === 'fault');

/**
 * Sends `violate(client)` on a fresh connection from `from` — after joining `nsp` unless `preAuth` —
 * then a valid request (a `time` probe on the lane, or before authentication a CONNECT with a good
 * token), and waits for the connection to close.
 */
export async function violation(
  target: Target,
  from: string,
  violate: (client: RawClient) => void,
  options: { nsp?: Lane; preAuth?: boolean; closeWithinMs?: number } = {},
): Promise<Outcome> {
  const nsp = options.nsp ?? '/control';
  let client: RawClient;
  if (options.preAuth) client = await open(target, { localAddress: from });
  else {
    const r = await tryJoin(target, { token: await freshOperator() }, { nsp, from });
    if (!r.ok) throw new Error(`could not join ${nsp} before the violation: ${JSON.stringify(r.refusal)}`);
    client = r.lane.client;
  }
  const mark = client.packets.length;
  client.batch(() => {
    violate(client);
    if (options.preAuth)
      client.send({
        type: PacketType.CONNECT,
        nsp: '/control',
        data: { token: 'canary-token-is-not-valid' },
      });
    else client.send({ type: PacketType.EVENT, nsp, id: 999_999, data: ['time', { t0: Date.now() }] });
  });
  // Done when the connection closes, or as soon as anything answers (a failure: no need to wait on).
  const answered = client.waitFor(
    (p) => client.packets.indexOf(p) >= mark && isAnswer(p),
    options.closeWithinMs ?? 15_000,
  );
  const closed = await Promise.race([
    client.closed.then(() => true),
    answered.then(
      (p) => p === undefined,
      () => false,
    ),
  ]);
  if (!closed) client.kill();
  return { closed, answers: client.packets.slice(mark).filter(isAnswer) };
}

/** Asserts that the violation closed the connection and got no answer. */
export function expectClosedSilently(outcome: Outcome, what: string) {
  expect(
    { closed: outcome.closed, answers: outcome.answers },
    `${what}: the connection should close without an answer`,
  ).toEqual({ closed: true, answers: [] });
}
