import { type Clock, ControlLease, EStopLatch, type LeaseClient } from '@telekit/core';
import { BehaviorSubject, map, type Observable, Subject } from 'rxjs';
import type { EStopInfo, LeaseInfo } from '../protocol.js';

/** The answer to a lease request. */
export type LeaseResult =
  | { granted: true; holder: LeaseInfo }
  | { granted: false; reason: 'forbidden' | 'held'; holder: LeaseInfo | null };

/** A message relayed between gateway instances. */
export interface Relayed {
  lane: 'control' | 'telemetry';
  topic: string;
  message: unknown;
}

/**
 * What gateway instances share: the one control lease, the e-stop, and the messages each must hand
 * the others. One instance uses {@link localBackplane}; several behind a load balancer use the
 * Redis one, so the lease stays single and an e-stop on one stops all.
 */
export interface Backplane {
  readonly lease$: Observable<LeaseInfo | null>;
  readonly holder: LeaseInfo | null;
  acquire(client: LeaseClient, takeover: boolean): Promise<LeaseResult>;
  release(id: string): Promise<boolean>;
  /** The client is gone: ends its lease if it held one. */
  drop(id: string): Promise<boolean>;
  /** The holder is alive (keeps a lease with an expiry from lapsing). */
  touch(id: string): void;
  readonly estop$: Observable<EStopInfo>;
  readonly estop: EStopInfo;
  engage(by: string, reason?: string): Promise<boolean>;
  clear(by: string): Promise<boolean>;
  /** Hands a message to the other instances (a no-op for one). */
  relay(message: Relayed): void;
  /** Messages from the other instances. */
  readonly relayed$: Observable<Relayed>;
  close(): Promise<void>;
}

const info = (h: { id: string; role: LeaseInfo['role'] } | undefined): LeaseInfo | null =>
  h ? { id: h.id, role: h.role } : null;

/** The backplane of a single gateway: the core `ControlLease` and `EStopLatch`. */
export function localBackplane(clock: Clock): Backplane {
  const lease = new ControlLease({ clock });
  const latch = new EStopLatch({ clock });
  const lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  const sub = lease.changes$.subscribe((c) => lease$.next(info(c.holder)));
  const relayed$ = new Subject<Relayed>();
  const toInfo = (s: { latched: boolean; by?: string; reason?: string }): EStopInfo => ({
    latched: s.latched,
    ...(s.by === undefined ? {} : { by: s.by }),
    ...(s.reason === undefined ? {} : { reason: s.reason }),
  });
  return {
    lease$: lease$.asObservable(),
    get holder() {
      return lease$.value;
    },
    async acquire(client, takeover) {
      const d = lease.acquire(client, { takeover });
      return d.granted
        ? { granted: true, holder: info(d.holder)! }
        : { granted: false, reason: d.reason, holder: info(d.holder) };
    },
    release: async (id) => lease.release(id),
    drop: async (id) => lease.drop(id),
    touch: (id) => lease.touch(id),
    estop$: latch.state$.pipe(map(toInfo)),
    get estop() {
      return toInfo(latch.state);
    },
    engage: async (by, reason) => latch.engage(by, reason),
    clear: async (by) => latch.clear(by),
    relay() {},
    relayed$: relayed$.asObservable(),
    async close() {
      sub.unsubscribe();
      lease.close();
      latch.close();
      lease$.complete();
      relayed$.complete();
    },
  };
}
