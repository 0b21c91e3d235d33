import { describe, expect, it, vi } from 'vitest';
import type { LeaseInfo } from '../protocol.js';
import type { Backplane, Relayed } from '../server/backplane.js';

/** Backplanes under test: one instance, and for a shared backplane a second one on the same state. */
export interface BackplaneHarness {
  readonly a: Backplane;
  /** Another instance sharing `a`'s lease, e-stop and relay (Redis); absent for a backplane of one. */
  readonly b?: Backplane;
  /** Closes the instances and whatever the harness started. */
  close(): Promise<void>;
}

/** Options of {@link describeBackplane}. */
export interface DescribeBackplaneOptions {
  /** Whether the harness gives a second instance on the same state (`b`); without it the shared cases are skipped. */
  shared?: boolean;
  /** How long a change may take to show (a shared backplane goes through its server), ms. Default 2 000. */
  timeoutMs?: number;
}

const alice: LeaseInfo = { id: 'operator-alice', name: 'alice', role: 'operator' };
const bob: LeaseInfo = { id: 'operator-bob', name: 'bob', role: 'operator' };
const root: LeaseInfo = { id: 'admin-root', name: 'root', role: 'admin' };
const eve: LeaseInfo = { id: 'viewer-eve', name: 'eve', role: 'viewer' };

/**
 * The contract every gateway backplane keeps — the local one, the Redis one, one of your own — as a
 * runnable kit: one lease holder at a time (viewers never, admins by takeover), released by its holder
 * or on disconnect; a latching e-stop whose first record is kept; and, for a shared backplane, both
 * instances seeing the same lease and e-stop, and each relaying to the other but never to itself.
 *
 * @example
 * ```ts
 * import { describeBackplane } from '@telekit/gateway/testing';
 * import { localBackplane } from '@telekit/gateway';
 * describeBackplane('local', async () => {
 *   const a = localBackplane(systemClock);
 *   return { a, close: () => a.close() };
 * });
 * ```
 */
export function describeBackplane(
  name: string,
  make: () => Promise<BackplaneHarness>,
  options: DescribeBackplaneOptions = {},
): void {
  const timeout = options.timeoutMs ?? 2_000;
  const eventually = (check: () => void) => vi.waitFor(check, { timeout, interval: 10 });
  const withHarness = (fn: (h: BackplaneHarness) => Promise<void>) => async () => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };

  describe(`backplane: ${name}`, () => {
    it(
      'grants a free lease, refuses it to others while held, and never to a viewer',
      withHarness(async ({ a }) => {
        const seen: (LeaseInfo | null)[] = [];
        const sub = a.lease$.subscribe((h) => seen.push(h));
        expect(await a.acquire(alice, false)).toEqual({ granted: true, holder: alice });
        expect(a.holder).toEqual(alice);
        expect(a.isHolder(alice.id)).toBe(true);
        expect(a.isHolder(bob.id)).toBe(false);
        expect(await a.acquire(bob, false)).toEqual({ granted: false, reason: 'held', holder: alice });
        expect(await a.acquire(eve, false)).toMatchObject({ granted: false, reason: 'forbidden' });
        // A holder asking again keeps it.
        expect(await a.acquire(alice, false)).toEqual({ granted: true, holder: alice });
        await eventually(() => expect(seen.at(-1)).toEqual(alice));
        sub.unsubscribe();
      }),
    );

    it(
      'an operator cannot take over; an admin can, and the previous holder loses it',
      withHarness(async ({ a }) => {
        await a.acquire(alice, false);
        expect(await a.acquire(bob, true)).toMatchObject({ granted: false, reason: 'held' });
        expect(await a.acquire(root, true)).toEqual({ granted: true, holder: root });
        expect(a.isHolder(alice.id)).toBe(false);
        expect(a.isHolder(root.id)).toBe(true);
      }),
    );

    it(
      'only the holder releases it; a holder that disconnects loses it',
      withHarness(async ({ a }) => {
        await a.acquire(alice, false);
        expect(await a.release(bob.id)).toBe(false);
        expect(a.isHolder(alice.id)).toBe(true);
        expect(await a.release(alice.id)).toBe(true);
        await eventually(() => expect(a.holder).toBeNull());
        await a.acquire(bob, false);
        expect(await a.drop(alice.id)).toBe(false);
        expect(await a.drop(bob.id)).toBe(true);
        await eventually(() => expect(a.holder).toBeNull());
        expect(await a.acquire(alice, false)).toMatchObject({ granted: true });
      }),
    );

    it(
      'the e-stop latches with who and why, keeps its first record, and clears',
      withHarness(async ({ a }) => {
        expect(a.estop.latched).toBe(false);
        expect(await a.engage({ id: alice.id, name: alice.name }, 'person in the cell')).toBe(true);
        await eventually(() =>
          expect(a.estop).toMatchObject({
            latched: true,
            by: 'alice',
            byId: alice.id,
            reason: 'person in the cell',
          }),
        );
        expect(await a.engage({ id: bob.id, name: bob.name }, 'again')).toBe(false);
        expect(a.estop).toMatchObject({ by: 'alice', reason: 'person in the cell' });
        expect(await a.clear({ id: root.id, name: root.name }, 'cell clear')).toBe(true);
        await eventually(() => expect(a.estop).toMatchObject({ latched: false, by: 'root', byId: root.id }));
        expect(await a.clear({ id: root.id, name: root.name })).toBe(false);
      }),
    );

    it(
      'is the lease check of a safety gate: isHolder follows every change',
      withHarness(async ({ a }) => {
        expect(a.isHolder(alice.id)).toBe(false);
        await a.acquire(alice, false);
        expect(a.isHolder(alice.id)).toBe(true);
        a.touch(alice.id);
        await a.release(alice.id);
        await eventually(() => expect(a.isHolder(alice.id)).toBe(false));
      }),
    );

    describe.skipIf(!options.shared)('shared between instances (skipped for a backplane of one)', () => {
      const shared = (fn: (a: Backplane, b: Backplane) => Promise<void>) =>
        withHarness(async ({ a, b }) => {
          if (!b) throw new Error('a shared backplane harness must give a second instance, b');
          await fn(a, b);
        });

      it(
        'one lease across instances: held on one, refused on the other, free on both when released',
        shared(async (a, b) => {
          await a.acquire(alice, false);
          await eventually(() => expect(b.holder).toEqual(alice));
          expect(b.isHolder(alice.id)).toBe(true);
          expect(await b.acquire(bob, false)).toMatchObject({
            granted: false,
            reason: 'held',
            holder: alice,
          });
          await a.release(alice.id);
          await eventually(() => expect(b.holder).toBeNull());
          expect(await b.acquire(bob, false)).toMatchObject({ granted: true });
          await eventually(() => expect(a.isHolder(bob.id)).toBe(true));
        }),
      );

      it(
        'an e-stop engaged on one is latched on both; cleared on the other, on both',
        shared(async (a, b) => {
          await a.engage({ id: alice.id, name: alice.name }, 'drill');
          await eventually(() =>
            expect(b.estop).toMatchObject({ latched: true, byId: alice.id, reason: 'drill' }),
          );
          expect(await b.engage({ id: bob.id, name: bob.name })).toBe(false);
          await b.clear({ id: root.id, name: root.name });
          await eventually(() => expect(a.estop.latched).toBe(false));
        }),
      );

      it(
        'relays to the other instance, never back to itself',
        shared(async (a, b) => {
          const atA: Relayed[] = [];
          const atB: Relayed[] = [];
          const subs = [a.relayed$.subscribe((r) => atA.push(r)), b.relayed$.subscribe((r) => atB.push(r))];
          const message: Relayed = { lane: 'telemetry', topic: '/telemetry/battery', message: { n: 1 } };
          a.relay(message);
          await eventually(() => expect(atB).toEqual([message]));
          await new Promise((r) => setTimeout(r, 100));
          expect(atA).toEqual([]);
          for (const s of subs) s.unsubscribe();
        }),
      );
    });
  });
}
