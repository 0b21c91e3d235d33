import type { Logger } from '@telekit/core';
import { BehaviorSubject, type Observable, Subject } from 'rxjs';
import type { EStopInfo, LeaseInfo } from '../protocol.js';
import type { Backplane, LeaseResult, Relayed } from './backplane.js';

const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local h = cjson.decode(cur)
  if h.id == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return cur
  end
  if ARGV[3] ~= '1' then return cur end
end
local v = cjson.encode({ id = ARGV[1], role = ARGV[2], name = ARGV[5] })
redis.call('SET', KEYS[1], v, 'PX', ARGV[4])
return v`;

const RELEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).id == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

const REFRESH = `
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).id == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

type Event =
  | { type: 'lease'; holder: LeaseInfo | null }
  | { type: 'estop'; state: EStopInfo }
  | { type: 'relay'; origin: string; relayed: Relayed };

/**
 * The backplane of several gateway instances, through Redis: the lease is one key set atomically
 * (a Lua script), kept alive by the holder's instance and expiring if that instance dies; the
 * e-stop is one key; changes and relayed traffic go over one pub/sub channel.
 */
export async function redisBackplane(
  url: string,
  log: Logger,
  options: { prefix?: string; leaseTtlMs?: number } = {},
): Promise<Backplane> {
  const { createClient } = await import('redis');
  const prefix = options.prefix ?? 'telekit';
  const leaseKey = `${prefix}:lease`;
  const estopKey = `${prefix}:estop`;
  const channel = `${prefix}:events`;
  const ttl = options.leaseTtlMs ?? 3_000;
  const origin = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const cmd = createClient({ url });
  const sub = cmd.duplicate();
  for (const c of [cmd, sub]) c.on('error', (e: unknown) => log.error('redis error', { error: String(e) }));
  await Promise.all([cmd.connect(), sub.connect()]);

  const parse = <T>(s: string | null): T | null => (s ? (JSON.parse(s) as T) : null);
  const lease$ = new BehaviorSubject<LeaseInfo | null>(parse<LeaseInfo>(await cmd.get(leaseKey)));
  const estop$ = new BehaviorSubject<EStopInfo>(
    parse<EStopInfo>(await cmd.get(estopKey)) ?? { latched: false },
  );
  const relayed$ = new Subject<Relayed>();
  const local = new Set<string>();

  const setHolder = (h: LeaseInfo | null) => {
    if (h?.id !== lease$.value?.id) lease$.next(h);
  };
  const publish = (e: Event) =>
    void cmd
      .publish(channel, JSON.stringify(e))
      .catch((err: unknown) => log.error('redis publish failed', { error: String(err) }));

  await sub.subscribe(channel, (raw) => {
    let e: Event;
    try {
      e = JSON.parse(raw) as Event;
    } catch {
      return;
    }
    if (e.type === 'lease') setHolder(e.holder);
    else if (e.type === 'estop') estop$.next(e.state);
    else if (e.type === 'relay' && e.origin !== origin) relayed$.next(e.relayed);
  });

  // Keep local holders' leases alive, and notice a lease that lapsed (its instance died).
  const timer = setInterval(
    () => {
      void (async () => {
        for (const id of local) await cmd.eval(REFRESH, { keys: [leaseKey], arguments: [id, String(ttl)] });
        setHolder(parse<LeaseInfo>(await cmd.get(leaseKey)));
      })().catch((err: unknown) => log.error('redis lease refresh failed', { error: String(err) }));
    },
    Math.max(200, ttl / 3),
  );
  timer.unref();

  const end = async (id: string) => {
    local.delete(id);
    const removed = (await cmd.eval(RELEASE, { keys: [leaseKey], arguments: [id] })) === 1;
    if (removed) {
      setHolder(null);
      publish({ type: 'lease', holder: null });
    }
    return removed;
  };

  return {
    lease$: lease$.asObservable(),
    get holder() {
      return lease$.value;
    },
    isHolder: (id) => lease$.value?.id === id,
    async acquire(client, takeover): Promise<LeaseResult> {
      if (client.role === 'viewer') return { granted: false, reason: 'forbidden', holder: lease$.value };
      const raw = (await cmd.eval(ACQUIRE, {
        keys: [leaseKey],
        arguments: [
          client.id,
          client.role,
          takeover && client.role === 'admin' ? '1' : '0',
          String(ttl),
          client.name,
        ],
      })) as string;
      const holder = JSON.parse(raw) as LeaseInfo;
      if (holder.id !== client.id) {
        setHolder(holder);
        return { granted: false, reason: 'held', holder };
      }
      local.add(client.id);
      setHolder(holder);
      publish({ type: 'lease', holder });
      return { granted: true, holder };
    },
    release: end,
    drop: end,
    touch() {},
    estop$: estop$.asObservable() as Observable<EStopInfo>,
    get estop() {
      return estop$.value;
    },
    async engage(by, reason) {
      if (estop$.value.latched) return false;
      const state: EStopInfo = {
        latched: true,
        by: by.name,
        byId: by.id,
        ...(reason === undefined ? {} : { reason }),
      };
      await cmd.set(estopKey, JSON.stringify(state));
      estop$.next(state);
      publish({ type: 'estop', state });
      return true;
    },
    async clear(by, reason) {
      if (!estop$.value.latched) return false;
      const state: EStopInfo = {
        latched: false,
        by: by.name,
        byId: by.id,
        ...(reason === undefined ? {} : { reason }),
      };
      await cmd.set(estopKey, JSON.stringify(state));
      estop$.next(state);
      publish({ type: 'estop', state });
      return true;
    },
    relay(relayed) {
      publish({ type: 'relay', origin, relayed });
    },
    relayed$: relayed$.asObservable(),
    async close() {
      clearInterval(timer);
      for (const id of [...local]) await end(id).catch(() => false);
      lease$.complete();
      estop$.complete();
      relayed$.complete();
      await Promise.allSettled([sub.quit(), cmd.quit()]);
    },
  };
}
