import { Topics } from '@telekit/core';
import type { Subscription } from 'rxjs';
import type { LinkHealth } from '../protocol.js';
import type { GatewayContext } from './context.js';

/**
 * What each client hears about its own link, once a second: its round trip and clock offset (from
 * its probes), what became of its commands where they act and where their time went (from
 * `/telemetry/actuation`: admitted commands carry the gateway's clock, and so do their reports), its
 * drops, and who holds control. Returns what stops it.
 */
export function startLinkHealth(ctx: GatewayContext): () => void {
  const { clock, metrics, sessions, backplane } = ctx;
  const accounting: Subscription = ctx.transport
    .subscribe(Topics.actuation, { depth: 1024 })
    .subscribe((a) => {
      const session = sessions.get(a.command.sender);
      if (!session) return;
      const accounted = session.actuated(a, clock.now());
      for (const [stage, ms] of accounted.stages) metrics.observeStage(stage, ms / 1000);
      for (const ms of accounted.inputToActuation) metrics.inputToActuation.observe(ms / 1000);
      metrics.countFate(a.fate);
    });
  const timer = setInterval(() => {
    for (const s of sessions.values()) {
      const socket = s.sockets.control;
      if (!socket || !s.writable(socket, clock.now())) continue;
      const budget = s.stages.budget(clock.now());
      const health: LinkHealth = {
        rtt: s.clock.rtt(),
        offset: s.clock.offset,
        inputToActuation: budget.inputToActuation,
        fates: s.fates,
        budget,
        drops: { telemetry: s.outboxes.telemetry?.dropped() ?? 0, control: s.refused },
        lease: backplane.holder,
        ...(ctx.dataLanes ? { dataChannel: ctx.dataLanes.state(s) } : {}),
      };
      socket.emit('health', health);
    }
  }, 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    accounting.unsubscribe();
  };
}
