import { headerSequence, type Plugin, SimulatorToken, Topics, TransportToken } from '@telekit/core';
import type { SimulatorState } from '@telekit/core/contracts';
import { filter, interval, merge, mergeMap, takeUntil } from 'rxjs';
import { type SimDivergence, SimTopics } from '../topics.js';
import { authoritySnapshot } from './authority-snapshot.js';

/** Options of {@link simAuthority}. */
export interface SimAuthorityOptions {
  /** Snapshots per second. Default 10. */
  rateHz?: number;
  /** Above this divergence (m) a browser's report is logged as a warning. Default 0.25. */
  warnAbove?: number;
}

/**
 * Makes the app's simulator (whichever provides `SimulatorToken`: the sidecar, or the WASM simulator
 * in Node) the authority for browser simulators: publishes `/telemetry/sim_snapshot` at `rateHz`
 * (byte snapshots from MuJoCo, pose snapshots from another engine: see `authoritySnapshot`)
 * and at once after a reset, and collects the browsers' `/telemetry/sim_divergence` reports
 * (the worst one shows in `health()`).
 *
 * Give the gateway `topics: Object.values(SimTopics)` and let operators publish
 * `/telemetry/sim_divergence` in its ACL.
 */
export function simAuthority(options: SimAuthorityOptions = {}): Plugin {
  const rateHz = options.rateHz ?? 10;
  const warnAbove = options.warnAbove ?? 0.25;
  const reports = new Map<string, SimDivergence>();
  // When each browser was last warned about, so one diverging page logs every 10 s, not at 10 Hz.
  const warned = new Map<string, number>();
  let published = 0;
  let failures = 0;
  return {
    name: '@telekit/sim-browser/authority',
    kind: 'simulator',
    requires: [SimulatorToken, TransportToken],
    async setup(ctx) {
      const sim = ctx.resolve(SimulatorToken);
      const transport = ctx.resolve(TransportToken);
      const next = headerSequence('@telekit/sim-browser/authority', ctx.clock.now);
      let last: SimulatorState | undefined;
      sim.state$.pipe(takeUntil(ctx.stop$)).subscribe((s) => {
        last = s;
      });
      let busy = false;
      const publish = async (reason: 'periodic' | 'reset') => {
        if (busy && reason === 'periodic') return;
        busy = true;
        try {
          const snap = await authoritySnapshot(sim);
          transport.publish(SimTopics.snapshot, {
            header: next(),
            scene: snap.scene,
            engine: snap.engine,
            time: snap.time,
            step: Math.max(0, last?.step ?? 0),
            reason,
            data: snap.data,
          });
          published++;
        } catch (error) {
          failures++;
          ctx.logger.warn('snapshot failed', { reason, error: String(error) });
        } finally {
          busy = false;
        }
      };
      merge(
        interval(1000 / rateHz).pipe(mergeMap(() => publish('periodic'))),
        transport.subscribe(Topics.action).pipe(
          filter((a) => a.action === 'reset'),
          // After the simulator's own plugin has handled the reset.
          mergeMap(() => new Promise((r) => setTimeout(r, 20)).then(() => publish('reset'))),
        ),
      )
        .pipe(takeUntil(ctx.stop$))
        .subscribe();
      transport
        .subscribe(SimTopics.divergence)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((d) => {
          reports.set(d.header.sender, d);
          if (reports.size > 256) reports.delete(reports.keys().next().value!);
          const now = ctx.clock.now();
          if (d.max > warnAbove && now - (warned.get(d.header.sender) ?? -Infinity) >= 10_000) {
            warned.set(d.header.sender, now);
            if (warned.size > 256) warned.delete(warned.keys().next().value!);
            ctx.logger.warn('a browser simulator diverged', {
              sender: d.header.sender,
              max: d.max.toFixed(3),
              worst: d.worst,
              correction: d.correction,
            });
          }
        });
      ctx.logger.info('authority for browser simulators', { rateHz });
    },
    health() {
      const worst = [...reports.values()].sort((a, b) => b.max - a.max)[0];
      return {
        status: failures > 0 && published === 0 ? 'degraded' : 'ok',
        detail: `${published} snapshots sent${failures ? `, ${failures} failed` : ''}${worst ? `; worst browser divergence ${worst.max.toFixed(4)} m (${worst.worst}, ${worst.header.sender})` : ''}`,
      };
    },
  };
}
