import { headerSequence, type Plugin, type Pose, Topics, TransportToken, type Twist } from '@telekit/core';
import { takeUntil } from 'rxjs';
import { LeaseToken } from './robot-plugin.js';

/** What the scripted operator saw. */
export interface OperatorReport {
  /** Commands published by the operator (not counting the intruder's). */
  sent: number;
  /** Commands the robot reported as actuated. */
  actuated: number;
  /** Command sent → actuation report received back, ms. */
  roundTripMs: number[];
  /** Command sent → actuated, ms. */
  inputToActuationMs: number[];
  /** Distance the base travelled, m. */
  distance: number;
  /** Final pose (x, y) of the base. */
  position: { x: number; y: number };
  /** Safety events the robot reported, in order: `[seconds since start, message]`. */
  safety: [number, string][];
}

/** Options of {@link scriptedOperator}. */
export interface ScriptedOperatorOptions {
  /** Called with each line of the story as it happens. */
  narrate?: (seconds: number, line: string) => void;
  /** Called once the script is done. */
  done: (report: OperatorReport) => void;
}

const twist = (h: ReturnType<typeof headerSequence>, x: number, wz = 0, stampShift = 0): Twist => {
  const header = h();
  return {
    header: { ...header, stamp: header.stamp + stampShift },
    linear: { x, y: 0, z: 0 },
    angular: { x: 0, y: 0, z: wz },
  };
};

/**
 * An operator as a plugin, following a script that exercises every safety rule: drive, turn, let
 * go (deadman), e-stop while driving, clear, a stale command, an intruder without the lease, and
 * a release.
 */
export function scriptedOperator(options: ScriptedOperatorOptions): Plugin {
  return {
    name: 'scripted-operator',
    kind: 'app',
    requires: [TransportToken, LeaseToken],
    setup(ctx) {
      const transport = ctx.resolve(TransportToken);
      const lease = ctx.resolve(LeaseToken);
      const clock = ctx.clock;
      const t0 = clock.now();
      const seconds = () => (clock.now() - t0) / 1000;
      const say = (line: string) => options.narrate?.(seconds(), line);
      const alice = headerSequence('alice', clock.now);
      const bob = headerSequence('bob', clock.now);
      const report: OperatorReport = {
        sent: 0,
        actuated: 0,
        roundTripMs: [],
        inputToActuationMs: [],
        distance: 0,
        position: { x: 0, y: 0 },
        safety: [],
      };
      let last: Pose | undefined;

      transport
        .subscribe(Topics.actuation)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((a) => {
          if (a.command.sender !== 'alice') return;
          report.actuated++;
          report.inputToActuationMs.push(a.actuatedAt - a.command.stamp);
          report.roundTripMs.push(clock.now() - a.command.stamp);
        });
      transport
        .subscribe(Topics.pose)
        .pipe(takeUntil(ctx.stop$))
        .subscribe((p) => {
          if (last)
            report.distance += Math.hypot(p.position.x - last.position.x, p.position.y - last.position.y);
          last = p;
          report.position = { x: p.position.x, y: p.position.y };
        });
      transport
        .subscribe(Topics.diagnostics, { depth: 64 })
        .pipe(takeUntil(ctx.stop$))
        .subscribe((d) => {
          for (const s of d.status) {
            report.safety.push([seconds(), s.message]);
            say(`robot: ${s.message}`);
          }
        });

      const send = (x: number, wz = 0) => {
        transport.publish(Topics.twist, twist(alice, x, wz));
        report.sent++;
      };
      const timers: ReturnType<typeof setTimeout>[] = [];
      const at = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));
      const every = (from: number, to: number, fn: () => void) => {
        for (let t = from; t < to; t += 50) at(t, fn);
      };

      const decision = lease.acquire({ id: 'alice', role: 'operator' });
      say(`alice asks for control: ${decision.granted ? 'granted' : 'refused'}`);
      at(0, () => say('alice drives forward at 0.5 m/s'));
      every(0, 1500, () => send(0.5));
      at(1500, () => say('alice turns left'));
      every(1500, 2500, () => send(0.3, 0.8));
      at(2500, () => say('alice lets go of the controls'));
      at(3100, () => say('alice drives again, then hits the e-stop'));
      every(3100, 4100, () => send(0.5));
      at(3600, () =>
        transport.publish(Topics.estop, { header: alice(), engage: true, reason: 'scripted test' }),
      );
      at(4200, () => transport.publish(Topics.estop, { header: alice(), engage: false }));
      at(4300, () => {
        say('a command delayed by 1 s arrives');
        transport.publish(Topics.twist, twist(alice, 1, 0, -1000));
      });
      at(4400, () => say('bob, without the lease, tries to drive'));
      every(4400, 4600, () => transport.publish(Topics.twist, twist(bob, 1)));
      at(4600, () => say('alice drives forward once more'));
      every(4600, 5100, () => send(0.4));
      at(5200, () => {
        lease.release('alice');
        say('alice releases control');
      });
      at(5600, () => options.done(report));
      return () => {
        for (const t of timers) clearTimeout(t);
      };
    },
  };
}
