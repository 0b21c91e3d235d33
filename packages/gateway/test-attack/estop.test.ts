/**
 * The e-stop under attack: viewers engaging, operators clearing a stop someone else engaged, stale,
 * future and out-of-order clears, an engage from 1970 (honoured). Anyone allowed may engage; only the engager,
 * the lease holder or an admin may clear, and only with a fresh, in-order message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { estop, fate, type Joined, join, twist } from './harness/lanes.js';
import { addresses } from './harness/raw.js';
import { useTarget } from './harness/service.js';
import { type Role, token } from './harness/tokens.js';

const t = useTarget('default');
const from = addresses(40);
let n = 0;

const as = async (role: Role, name = role) =>
  join(t.target, { token: await token(`${name}-${++n}`, role) }, { from: from() });

/** The e-stop as a fresh client is told in its welcome. */
async function latched(): Promise<boolean> {
  const v = await as('viewer', 'watcher');
  const state = v.welcome.estop as { latched?: unknown } | undefined;
  v.client.kill();
  return state?.latched === true;
}

/** The holder drives; resolves with the twist's fate (`ok`, or `E_ESTOP` while latched). */
const drive = async (holder: Joined) => fate(await holder.pub('/controller/twist', twist(0.4)));

/** Clears by e-stop messages robot-side. */
const clearsReceived = async () => (await t.target.robot()).estops.filter((e) => !e.engage).length;

async function rig() {
  const holder = await as('operator', 'holder');
  expect(await holder.ask('lease', { action: 'acquire' })).toMatchObject({ granted: true });
  const engager = await as('operator', 'engager');
  expect(fate(await engager.pub('/controller/estop', estop(true, { reason: 'attack suite' })))).toBe('ok');
  expect(await latched()).toBe(true);
  expect(await drive(holder)).toBe('E_ESTOP');
  return { holder, engager };
}

/** An admin clears whatever is latched. */
async function adminClear() {
  const admin = await as('admin', 'cleaner');
  await admin.pub('/controller/estop', estop(false));
  admin.client.kill();
}

/** The case's verdict: the e-stop cleared by an admin, then the legitimate operator's check. */
async function settle() {
  await adminClear();
  await t.intact();
}

// Whatever a failed case left latched, an admin clears, so that the next case starts clean.
afterEach(async () => {
  if (t.target.alive) await adminClear().catch(() => undefined);
});

describe('engaging', () => {
  it('a viewer may not engage the e-stop (default access list): E_FORBIDDEN, nothing latched', async () => {
    const v = await as('viewer');
    const before = (await t.target.robot()).estops.length;
    expect(fate(await v.pub('/controller/estop', estop(true)))).toBe('E_FORBIDDEN');
    expect(await latched()).toBe(false);
    expect((await t.target.robot()).estops.length).toBe(before);
    await settle();
  });

  it('an operator without the lease may engage it: the holder is stopped', async () => {
    await rig();
    await settle();
  });

  // Stopping is never refused for being late: a refused engage would leave the robot moving. The
  // stamp cannot make it last (an e-stop latches until cleared), so the only harm is none.
  it('an engage stamped in 1970 still stops the robot (stopping is never refused for lateness)', async () => {
    const holder = await as('operator', 'holder');
    await holder.ask('lease', { action: 'acquire' });
    const op = await as('operator');
    expect(fate(await op.pub('/controller/estop', estop(true, { stamp: 1_000 })))).toBe('ok');
    expect(await latched()).toBe(true);
    expect(await drive(holder)).toBe('E_ESTOP');
    await settle();
  });
});

describe('clearing', () => {
  it('an operator who neither engaged it nor holds the lease cannot clear it: E_FORBIDDEN', async () => {
    const { holder } = await rig();
    const clears = await clearsReceived();
    const other = await as('operator', 'other');
    expect(fate(await other.pub('/controller/estop', estop(false)))).toBe('E_FORBIDDEN');
    const viewer = await as('viewer');
    expect(fate(await viewer.pub('/controller/estop', estop(false)))).toBe('E_FORBIDDEN');
    expect(await latched()).toBe(true);
    expect(await drive(holder)).toBe('E_ESTOP');
    expect(await clearsReceived(), 'a refused clear reached the robot').toBe(clears);
    await settle();
  });

  it('a clear stamped 55 s ago or 30 s ahead is refused as stale, even from an admin', async () => {
    const { holder } = await rig();
    const clears = await clearsReceived();
    const admin = await as('admin');
    expect(fate(await admin.pub('/controller/estop', estop(false, { stampShift: -55_000 })))).toBe('E_STALE');
    expect(fate(await admin.pub('/controller/estop', estop(false, { stampShift: 30_000 })))).toBe('E_STALE');
    expect(await latched()).toBe(true);
    expect(await drive(holder)).toBe('E_ESTOP');
    expect(await clearsReceived()).toBe(clears);
    await settle();
  });

  it("a clear older than the sender's last admitted message is refused", async () => {
    const { holder, engager } = await rig();
    // The engager's engage was admitted just now; a clear stamped before it is out of order.
    const answer = fate(await engager.pub('/controller/estop', estop(false, { stampShift: -200 })));
    expect(['E_STALE', 'E_OUT_OF_ORDER']).toContain(answer);
    expect(await latched()).toBe(true);
    expect(await drive(holder)).toBe('E_ESTOP');
    await settle();
  });

  it('an admin clears it with a fresh message; the holder drives again', async () => {
    const { holder } = await rig();
    const admin = await as('admin');
    expect(fate(await admin.pub('/controller/estop', estop(false)))).toBe('ok');
    expect(await latched()).toBe(false);
    expect(await drive(holder)).toBe('ok');
    await settle();
  });

  it('the engager may clear its own e-stop', async () => {
    const { holder, engager } = await rig();
    expect(fate(await engager.pub('/controller/estop', estop(false)))).toBe('ok');
    expect(await latched()).toBe(false);
    expect(await drive(holder)).toBe('ok');
    await settle();
  });

  it('the lease holder may clear an e-stop someone else engaged', async () => {
    const { holder } = await rig();
    expect(fate(await holder.pub('/controller/estop', estop(false)))).toBe('ok');
    expect(await latched()).toBe(false);
    expect(await drive(holder)).toBe('ok');
    await settle();
  });

  it('who engaged is shown by public id, never by a secret', async () => {
    const { engager } = await rig();
    const v = await as('viewer');
    const state = v.welcome.estop as { latched: boolean; by?: unknown };
    expect(state.latched).toBe(true);
    expect(JSON.stringify(state)).not.toContain(engager.resume);
    await settle();
  });
});
