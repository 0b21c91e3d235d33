/**
 * The verdict after every group of attacks: the gateway's process is alive, and a legitimate operator
 * (the real `gatewayClient`, from 127.0.0.1 while attackers use other addresses) connects, takes the
 * lease, sends a twist, gets its actuation report back, and the robot received that twist.
 *
 * @module
 */
import { Topics, type Twist } from '@telekit/core';
import type { Actuation } from '@telekit/core/schemas';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { gatewayClient } from '../../src/client/index.js';
import type { Profile } from '../config.js';
import { closeAll, now, sleep } from './lanes.js';
import { startTarget, type Target } from './target.js';
import { token } from './tokens.js';

let rounds = 0;

/**
 * Asserts that the gateway survived (no process of `target` died after the `since`-th death) and
 * still serves a legitimate operator.
 */
export async function expectServiceIntact(target: Target, since = 0) {
  const deaths = target.deaths.slice(since);
  const died = deaths.map((d) => `exit ${d.code ?? d.signal}:\n${d.tail}`).join('\n---\n');
  expect(deaths.length, `the gateway process died:\n${died}`).toBe(0);
  expect(target.alive, 'the gateway process is not running').toBe(true);

  const round = ++rounds;
  const marker = 0.2 + round / 1000;
  const client = gatewayClient({
    url: target.url,
    token: await token('sentinel', 'operator'),
    connectTimeoutMs: 20_000,
  });
  const faults: string[] = [];
  client.faults$.subscribe((f) => faults.push(`${f.code}: ${f.message}`));
  try {
    await client.connect();
    const lease = await client.requestControl();
    expect(lease, 'the legitimate operator could not take the lease').toMatchObject({ granted: true });
    const reports: Actuation[] = [];
    client.subscribe(Topics.actuation, { depth: 256 }).subscribe((a) => reports.push(a));
    const sent = new Set<number>();
    let seq = round * 1_000;
    // The actuation subscription is live after a round trip of its own: send until a report comes back.
    for (let i = 0; i < 40 && !reports.some((a) => sent.has(a.command.seq)); i++) {
      const t: Twist = {
        header: { seq: ++seq, stamp: now(), sender: 'sentinel' },
        linear: { x: marker, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      };
      sent.add(t.header.seq);
      client.publish(Topics.twist, t);
      await sleep(250);
    }
    expect(
      reports.some((a) => sent.has(a.command.seq)),
      `no actuation report came back to the legitimate operator; its faults: ${faults.join('; ')}`,
    ).toBe(true);
    const robot = await target.robot();
    expect(
      robot.twists.some((t) => t.x === marker),
      "the robot did not receive the legitimate operator's twist",
    ).toBe(true);
  } finally {
    await client.releaseControl().catch(() => undefined);
    await client.close();
  }
}

/**
 * The target of a test file: started before its cases, restarted before a case if an earlier one
 * killed it, every raw connection cut after each case, stopped at the end. `intact()` is
 * {@link expectServiceIntact} for the deaths since the current case began.
 */
export function useTarget(profile: Profile = 'default') {
  let target: Target | undefined;
  let mark = 0;
  beforeAll(async () => {
    target = await startTarget(profile);
  });
  beforeEach(async () => {
    mark = target!.deaths.length;
    await target!.ensure();
  });
  afterEach(async () => {
    await closeAll();
  });
  afterAll(async () => {
    await closeAll();
    await target?.close();
  });
  return {
    get target(): Target {
      return target!;
    },
    /** Cuts the case's raw connections (their leases go with them), then checks the service. */
    intact: async () => {
      await closeAll();
      await expectServiceIntact(target!, mark);
    },
  };
}
