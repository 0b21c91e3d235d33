import { actuationReport, type Plugin, SimulatorToken, Topics, TransportToken } from '@telekit/core';
import { kinematicSim } from '@telekit/testkit/fakes';
import { interval, takeUntil } from 'rxjs';

/**
 * The kinematic fake simulator as the app's robot: `/controller/twist` acts on it, every command's
 * fate goes out on `/telemetry/actuation`, the pose at 50 Hz and the battery at 10 Hz.
 */
export function kinematicRobot(): Plugin {
  const sim = kinematicSim();
  return {
    name: 'kinematic-robot',
    kind: 'simulator',
    requires: [TransportToken],
    provides: [SimulatorToken],
    async setup(ctx) {
      ctx.provide(SimulatorToken, sim);
      const transport = ctx.resolve(TransportToken);
      await sim.loadScene({ id: 'diff-drive' });
      let seq = 0;
      const header = () => ({ seq: seq++, stamp: ctx.clock.now(), sender: 'robot' });
      transport
        .subscribe(Topics.twist)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((cmd) => sim.act({ kind: 'twist', linear: cmd.linear, angular: cmd.angular }, cmd.header));
      sim.actuations$
        .pipe(takeUntil(ctx.stop$))
        .subscribe((a) =>
          transport.publish(
            Topics.actuation,
            actuationReport(Topics.twist, a.command, header(), a.at, a.fate),
          ),
        );
      let ticks = 0;
      interval(20)
        .pipe(takeUntil(ctx.stop$))
        .subscribe(async () => {
          const state = await sim.step(2);
          if (state.base) transport.publish(Topics.pose, { header: header(), frame: 'odom', ...state.base });
          if (ticks++ % 5 === 0)
            transport.publish(Topics.battery, {
              header: header(),
              percentage: 0.9,
              voltage: 24,
              current: 1,
              charging: false,
            });
        });
      return () => sim.close();
    },
  };
}
