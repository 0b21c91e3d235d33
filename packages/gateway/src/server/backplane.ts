import type { Clock } from '@telekit/core';
import { ControlLease, EStopLatch, type LeaseCheck } from '@telekit/core/safety';
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

/** Who did something, as the backplane records it: a session's public id and display name. */
export interface Who {
  readonly id: string;
  readonly name: string;
}

/**
 * What gateway instances share: the one control lease, the e-stop, and the messages each must hand
 * the others. One instance uses {@link localBackplane}; several behind a load balancer use the
 * Redis one, so the lease stays single and an e-stop on one stops all. Both are the `LeaseCheck`
 * of the gateway's safety gates, and both pass `describeBackplane`.
 */
export interface Backplane extends LeaseCheck {
  readonly lease$: Observable<LeaseInfo | null>;
  readonly holder: LeaseInfo | null;
  /** True when session `id` holds the lease. */
  isHolder(id: string): boolean;
  acquire(client: LeaseInfo, takeover: boolean): Promise<LeaseResult>;
  release(id: string): Promise<boolean>;
  /** The client is gone: ends its lease if it held one. */
  drop(id: string): Promise<boolean>;
  /** The holder is alive (keeps a lease with an expiry from lapsing). */
  touch(id: string): void;
  readonly estop$: Observable<EStopInfo>;
  readonly estop: EStopInfo;
  /** Latches the e-stop; false when it was latched already (the first record is kept). */
  engage(by: Who, reason?: string): Promise<boolean>;
  /** Clears it; false when it was not latched. Who may clear is the gateway's rule, not the backplane's. */
  clear(by: Who, reason?: string): Promise<boolean>;
  /** Hands a message to the other instances (a no-op for one). */
  relay(message: Relayed): void;
  /** Messages from the other instances. */
  readonly relayed$: Observable<Relayed>;
  close(): Promise<void>;
}

const info = (h: { id: string; name?: string; role: LeaseInfo['role'] } | undefined): LeaseInfo | null =>
  h ? { id: h.id, name: h.name ?? h.id, role: h.role } : null;

/** The backplane of a single gateway: the core `ControlLease` and `EStopLatch`. */
export function localBackplane(clock: Clock): Backplane {
  const lease = new ControlLease({ clock });
  const latch = new EStopLatch({ clock });
  const lease$ = new BehaviorSubject<LeaseInfo | null>(null);
  const sub = lease.changes$.subscribe((c) => lease$.next(info(c.holder)));
  const relayed$ = new Subject<Relayed>();
  // The latch records the session id; people see the name.
  const names = new Map<string, string>();
  const toInfo = (s: { latched: boolean; by?: string; reason?: string }): EStopInfo => ({
    latched: s.latched,
    ...(s.by === undefined ? {} : { by: names.get(s.by) ?? s.by, byId: s.by }),
    ...(s.reason === undefined ? {} : { reason: s.reason }),
  });
  return {
    lease$: lease$.asObservable(),
    get holder() {
      return lease$.value;
    },
    isHolder: (id) => lease$.value?.id === id,
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
    engage: async (by, reason) => {
      if (names.size > 64) names.clear();
      names.set(by.id, by.name);
      return latch.engage(by.id, reason);
    },
    clear: async (by, reason) => {
      if (names.size > 64) names.clear();
      names.set(by.id, by.name);
      return latch.clear(by.id, reason);
    },
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
