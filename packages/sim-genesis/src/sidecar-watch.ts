// Watching a supervised sidecar from Node's side, on timers that never keep Node alive: the
// heartbeat (a ping each tick, which is also a clock sample, and a restart when one goes unanswered
// too long), the watch of a scene load (restart after `warmup.idleMs` without a sign of life), a
// recent snapshot kept to restore after a restart, and the sidecar's own account of what it spends.

import type { Clock, Logger } from '@telekit/core';
import type { SimSnapshot } from '@telekit/core/contracts';
import type { SidecarPerfMeter, WirePerf } from './sidecar-perf.js';
import type { SidecarSupervisor } from './sidecar-supervisor.js';
import { cpuTicks } from './sidecar-wire.js';

/** What {@link watchSidecar} needs, resolved from the simulator's options. */
export interface WatchSettings {
  heartbeat: { everyMs: number; timeoutMs: number };
  warmupIdleMs: number;
  snapshotEveryMs: number;
  perfEveryMs: number;
  requestTimeout: number;
  clock: Clock;
  meter: SidecarPerfMeter;
  log: Logger;
  /** The sidecar runs elsewhere (`connect`): its CPU time cannot be read. */
  remote: boolean;
}

/** The watch's readings, for `health()`, and its end. */
export interface SidecarWatch {
  /** How late Node's own heartbeat timer ran at its latest tick, ms. */
  readonly nodeLagMs: number;
  /** How long the sidecar took to answer its latest ping, by its own clock, ms. */
  readonly sidecarAnswerMs: number | undefined;
  /** Stops every timer. */
  stop(): void;
}

/** Starts watching `sup`'s sidecar. */
export function watchSidecar(sup: SidecarSupervisor, w: WatchSettings): SidecarWatch {
  const readings = { nodeLagMs: 0, sidecarAnswerMs: undefined as number | undefined };
  const timers = [heartbeat(sup, w, readings), keepSnapshots(sup, w), pollPerf(sup, w)];
  for (const t of timers) t.unref();
  return {
    get nodeLagMs() {
      return readings.nodeLagMs;
    },
    get sidecarAnswerMs() {
      return readings.sidecarAnswerMs;
    },
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}

/**
 * Heartbeat and liveness. Every tick pings the sidecar (its heartbeat, and a clock sample: the
 * ping carries Node's time). A ping counts as unanswered only for the time Node's own event loop
 * ran: a tick that comes late (Node was busy) credits at most one period to the pings in flight,
 * and the verdict is taken after this turn's I/O has been read (setImmediate), so an answer that
 * has been waiting in the socket is seen first. A starved Node never restarts a healthy sidecar.
 */
function heartbeat(
  sup: SidecarSupervisor,
  w: WatchSettings,
  readings: { nodeLagMs: number; sidecarAnswerMs: number | undefined },
) {
  const { everyMs, timeoutMs } = w.heartbeat;
  const inFlight = new Set<{ waited: number }>();
  let lastTick = performance.now();
  const judge = () => {
    if (sup.status.value !== 'ready' || sup.loading > 0) return;
    let longest = 0;
    for (const p of inFlight) longest = Math.max(longest, p.waited);
    if (longest >= timeoutMs) {
      inFlight.clear();
      void sup.restart(`no answer to a ping for ${Math.round(longest)} ms of Node's own time`);
    }
  };
  return setInterval(() => {
    const now = performance.now();
    const elapsed = now - lastTick;
    lastTick = now;
    readings.nodeLagMs = Math.max(0, elapsed - everyMs);
    const credit = Math.min(elapsed, everyMs);
    for (const p of inFlight) p.waited += credit;
    // A scene load is watched whatever the state (a restarted sidecar reloads its scene before it is ready).
    if (sup.loading > 0) watchWarmup(sup, w, now);
    const conn = sup.conn;
    if (sup.status.value !== 'ready' || !conn) return;
    const ping = { waited: 0 };
    inFlight.add(ping);
    conn
      .request<{ t: number; received: number }>('ping', { t: w.clock.now() }, 10 * timeoutMs + 60_000)
      .then(
        (r) => {
          readings.sidecarAnswerMs = Math.max(0, r.t - r.received);
          sup.lastSign = performance.now();
        },
        () => undefined,
      )
      .finally(() => inFlight.delete(ping));
    setImmediate(judge);
  }, everyMs);
}

/**
 * During a scene load: a sidecar that shows no sign of life (progress, an answered ping, CPU time
 * spent) for `warmup.idleMs` is hung, and restarted. One that is compiling spends CPU: never.
 */
function watchWarmup(sup: SidecarSupervisor, w: WatchSettings, now: number) {
  const pid = sup.child?.pid;
  const cpu = pid === undefined || w.remote ? undefined : cpuTicks(pid);
  if (cpu !== undefined && sup.lastCpu !== undefined && cpu > sup.lastCpu) sup.lastSign = now;
  sup.lastCpu = cpu;
  const idle = now - sup.lastSign;
  if (idle >= w.warmupIdleMs) {
    sup.lastSign = now;
    const reason = `no sign of life for ${Math.round(idle / 1000)} s while loading a scene (no progress, no answer, no CPU time)`;
    if (!sup.restarting) void sup.restart(reason);
    else {
      // Hung while a restart reloads its scene: the restart's attempt fails, and the next one starts afresh.
      w.log.warn('sidecar hung reloading its scene: killing it', { reason });
      sup.killChild();
    }
  }
}

/** Keeps a recent snapshot to restore after a restart. */
function keepSnapshots(sup: SidecarSupervisor, w: WatchSettings) {
  return setInterval(() => {
    const conn = sup.conn;
    if (sup.status.value !== 'ready' || !conn || !sup.scene || !sup.capabilities.snapshot) return;
    conn
      .request<{ snapshot: SimSnapshot }>('snapshot', {}, w.requestTimeout)
      .then((r) => {
        sup.lastSnapshot = r.snapshot;
      })
      .catch(() => undefined);
  }, w.snapshotEveryMs);
}

/** What the sidecar spends, and the camera's frames (their records stay in the sidecar for ~8 s). */
function pollPerf(sup: SidecarSupervisor, w: WatchSettings) {
  let perfPending = false;
  return setInterval(() => {
    const conn = sup.conn;
    if (sup.status.value !== 'ready' || !conn || perfPending) return;
    perfPending = true;
    conn
      .request<WirePerf>('perf', { since: w.meter.since }, w.requestTimeout)
      .then((r) => w.meter.add(w.clock.now(), r))
      .catch(() => undefined)
      .finally(() => {
        perfPending = false;
      });
  }, w.perfEveryMs);
}
