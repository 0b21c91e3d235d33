import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.js';
import { ControlLease, type LeaseChange } from './control-lease.js';

const alice = { id: 'alice', role: 'operator' } as const;
const bob = { id: 'bob', role: 'operator' } as const;
const root = { id: 'root', role: 'admin' } as const;
const eve = { id: 'eve', role: 'viewer' } as const;

describe('ControlLease', () => {
  it('grants a free lease, refuses others with the holder, re-grants to the holder', () => {
    const lease = new ControlLease({ clock: manualClock(5) });
    expect(lease.acquire(alice)).toEqual({ granted: true, holder: { ...alice, since: 5 } });
    expect(lease.acquire(bob)).toEqual({ granted: false, reason: 'held', holder: { ...alice, since: 5 } });
    expect(lease.acquire(alice).granted).toBe(true);
    expect(lease.isHolder('alice')).toBe(true);
    expect(lease.isHolder('bob')).toBe(false);
  });

  it('never grants a viewer', () => {
    const lease = new ControlLease();
    expect(lease.acquire(eve)).toEqual({ granted: false, reason: 'forbidden' });
    expect(lease.acquire(eve, { takeover: true }).granted).toBe(false);
  });

  it('lets an admin take over (and only an admin), reporting who lost it', () => {
    const lease = new ControlLease({ clock: manualClock(1) });
    const changes: LeaseChange[] = [];
    lease.changes$.subscribe((c) => changes.push(c));
    lease.acquire(alice);
    expect(lease.acquire(bob, { takeover: true }).granted).toBe(false);
    const d = lease.acquire(root, { takeover: true });
    expect(d).toMatchObject({ granted: true, holder: { id: 'root' }, previous: { id: 'alice' } });
    expect(changes.map((c) => c.reason)).toEqual(['acquired', 'taken-over']);
    // An admin without takeover waits like anyone.
    const l2 = new ControlLease();
    l2.acquire(alice);
    expect(l2.acquire(root)).toMatchObject({ granted: false, reason: 'held' });
  });

  it('ends on release or disconnect of the holder only', () => {
    const lease = new ControlLease();
    const changes: LeaseChange[] = [];
    lease.changes$.subscribe((c) => changes.push(c));
    lease.acquire(alice);
    expect(lease.release('bob')).toBe(false);
    expect(lease.drop('bob')).toBe(false);
    expect(lease.release('alice')).toBe(true);
    expect(lease.holder).toBeUndefined();
    lease.acquire(bob);
    expect(lease.drop('bob')).toBe(true);
    expect(changes.map((c) => [c.reason, c.previous?.id, c.holder?.id])).toEqual([
      ['acquired', undefined, 'alice'],
      ['released', 'alice', undefined],
      ['acquired', undefined, 'bob'],
      ['disconnected', 'bob', undefined],
    ]);
  });

  it('expires an idle holder on sweep, and touch keeps it alive', () => {
    const clock = manualClock(0);
    const lease = new ControlLease({ clock, idleTimeoutMs: 1000 });
    lease.acquire(alice);
    clock.advance(900);
    lease.touch('alice');
    clock.advance(900);
    expect(lease.sweep()).toBe(false);
    clock.advance(200);
    expect(lease.sweep()).toBe(true);
    expect(lease.holder).toBeUndefined();
    expect(new ControlLease().sweep()).toBe(false);
  });
});
