import {
  actuationReport,
  type Plugin,
  type Simulator,
  Topics,
  TransportToken,
  type Twist,
  token,
  zeroTwist,
} from '@telekit/core';
import { ControlLease, type SafetyEvent, SafetyGate } from '@telekit/core/safety';
import { kinematicSim } from '@telekit/testkit/fakes';
import { interval, takeUntil } from 'rxjs';

/** The robot's control lease, shared with whoever hands out control (here: the operator script). */
export const LeaseToken = token<ControlLease>('@telekit/example-minimal-robot/Lease');

/** Options of {@link robot}. */
export interface RobotOptions {
  /** Deadman timeout, ms. Default 250. */
  deadmanMs?: number;
  /** Pose telemetry rate, Hz. Default 20. */
  poseHz?: number;
  /** The simulator standing in for the robot. Default: the kinematic one from the testkit. */
  simulator?: Simulator;
}

/**
 * A robot as a plugin: commands from `/controller/twist` pass the core safety gate (lease, order,
 * deadline, deadman, e-stop) into a simulator stepped in real time; `/controller/estop` latches the
 * stop; pose, actuation reports and safety events go back out as telemetry.
 */
export function robot(options: RobotOptions = {}): Plugin {
  const sim = options.simulator ?? kinematicSim();
  let gate: SafetyGate<Twist> | undefined;
  return {
    name: 'robot',
    kind: 'simulator',
    requires: [TransportToken],
    provides: [LeaseToken],
    async setup(ctx) {
      const transport = ctx.resolve(TransportToken);
      const clock = ctx.clock;
      const lease = new ControlLease({ clock });
      ctx.provide(LeaseToken, lease);
      const info = await sim.loadScene({ id: 'diff-drive' });
      gate = new SafetyGate<Twist>({
        clock,
        lease,
        deadmanMs: options.deadmanMs ?? 250,
        zero: (last, now) => zeroTwist(now, last?.header),
      });
      const g = gate;
      let seq = 0;
      const header = () => ({ seq: seq++, stamp: clock.now(), sender: 'robot' });

      const twists = transport.subscribe(Topics.twist);
      twists
        .pipe(g.apply(), takeUntil(ctx.stop$))
        .subscribe((cmd) => sim.act({ kind: 'twist', linear: cmd.linear, angular: cmd.angular }, cmd.header));

      transport
        .subscribe(Topics.estop)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((m) => {
          if (m.engage) g.estop.engage(m.header.sender, m.reason);
          else g.estop.clear(m.header.sender);
        });
      g.estop.state$.pipe(takeUntil(ctx.stop$)).subscribe((s) => {
        if (s.latched) sim.act({ kind: 'freeze' });
      });

      g.events$.pipe(takeUntil(ctx.stop$)).subscribe((e) => {
        transport.publish(Topics.diagnostics, {
          header: header(),
          status: [
            {
              name: 'safety',
              level: e.type === 'estop' && e.engaged ? 'error' : 'warn',
              message: describeEvent(e),
            },
          ],
        });
      });

      sim.actuations$.pipe(takeUntil(ctx.stop$)).subscribe((a) => {
        transport.publish(Topics.actuation, actuationReport(Topics.twist, a.command, header(), a.at, a.fate));
      });

      // Step the simulator in real time; publish the pose at poseHz.
      const stepsPerPose = Math.max(1, Math.round(1 / (options.poseHz ?? 20) / info.timestep));
      let wall = ctx.clock.now();
      let busy = false;
      let reportedStale = 0;
      interval(info.timestep * 1000)
        .pipe(takeUntil(ctx.stop$))
        .subscribe(async () => {
          // Catch up on the steps that real time owes (at most 10 at once, so a stall never
          // turns into a burst of motion).
          const due = Math.floor((ctx.clock.now() - wall) / (info.timestep * 1000));
          if (busy || due < 1) return;
          busy = true;
          wall += due * info.timestep * 1000;
          const state = await sim.step(Math.min(10, due));
          busy = false;
          // The control lane drops late commands before they reach the gate; say so too.
          const stale = twists.stats().stale;
          if (stale > reportedStale) {
            transport.publish(Topics.diagnostics, {
              header: header(),
              status: [
                {
                  name: 'safety',
                  level: 'warn',
                  message: `stale command dropped [by:control lane][count:${stale - reportedStale}]`,
                },
              ],
            });
            reportedStale = stale;
          }
          if (state.base && state.step % stepsPerPose < Math.min(10, due)) {
            transport.publish(Topics.pose, { header: header(), frame: 'odom', ...state.base });
          }
        });

      return async () => {
        g.close();
        lease.close();
        await sim.close();
      };
    },
    health() {
      if (!gate) return { status: 'down', detail: 'not started' };
      const latched = gate.estop.latched;
      return {
        status: latched ? 'degraded' : 'ok',
        detail: latched ? 'e-stop latched' : 'driving',
        data: { ...gate.stats() },
      };
    },
  };
}

/** One line for a safety event. */
export function describeEvent(e: SafetyEvent): string {
  switch (e.type) {
    case 'stale':
      return `stale command dropped [sender:${e.sender}][seq:${e.seq}][age:${Math.round(e.age)}ms][reason:${e.reason}]`;
    case 'out-of-order':
      return `out-of-order command dropped [sender:${e.sender}][seq:${e.seq}][last:${e.last}]`;
    case 'not-holder':
      return `command from a client without the lease refused [sender:${e.sender}][holder:${e.holder ?? 'none'}]`;
    case 'estop-blocked':
      return `command blocked by the e-stop [sender:${e.sender}][seq:${e.seq}]`;
    case 'deadman':
      return `deadman: no fresh command, robot stopped [sender:${e.sender}][last seq:${e.seq}]`;
    case 'estop':
      return e.engaged
        ? `e-stop engaged [by:${e.by}][reason:${e.reason ?? '-'}]`
        : `e-stop cleared [by:${e.by}]`;
    case 'lease':
      return `lease ${e.change.reason} [holder:${e.change.holder?.id ?? 'none'}][previous:${e.change.previous?.id ?? 'none'}]`;
  }
}
