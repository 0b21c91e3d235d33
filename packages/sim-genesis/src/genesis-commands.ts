/**
 * The control lane onto the sidecar, for `genesisSim`: `/controller/twist` → the base,
 * `/controller/joints` → actuator targets, `/controller/estop` → freeze (and the e-stop latch that
 * drops commands meanwhile), `/controller/action` → reset, pause or resume; and the one
 * `/telemetry/actuation` report every command gets with its fate.
 */
import {
  actuationReport,
  type Header,
  type PluginContext,
  type Topic,
  Topics,
  type Transport,
} from '@telekit/core';
import type { SceneInfo, SimAction } from '@telekit/core/contracts';
import { EStopLatch } from '@telekit/core/safety';
import type { CommandFate } from '@telekit/core/schemas';
import { takeUntil } from 'rxjs';
import type { SidecarSimulator } from './sidecar-simulator.js';

/** What {@link wireCommands} needs. */
export interface CommandWiring {
  readonly ctx: Pick<PluginContext, 'clock' | 'logger' | 'stop$'>;
  readonly transport: Transport;
  readonly sim: SidecarSimulator;
  /** The next header of this plugin's messages. */
  readonly next: () => Header;
  /** The scene, once loaded: until then commands are refused. */
  readonly info: () => SceneInfo | undefined;
  /** The state rate the simulator runs at (a `resume` asks for it again). */
  readonly stateHz: () => number;
}

/** A command's report on `/telemetry/actuation`. */
type Report = (
  topic: Topic,
  command: Header,
  fate: CommandFate,
  at?: number,
  receivedAt?: number,
  simTime?: number,
) => void;

/**
 * Every command gets one /telemetry/actuation report with its fate: from the sidecar for those
 * it was sent, from here for those this plugin dropped (the e-stop latched, no base).
 */
function actuationReporter({ ctx, transport, next }: CommandWiring): Report {
  return (topic, command, fate, at = ctx.clock.now(), receivedAt, simTime) => {
    try {
      // When the sidecar received it (the gateway splits input→actuation there: trip, then
      // step) and the simulated time it acted from (a browser simulation puts it there).
      transport.publish(Topics.actuation, {
        ...actuationReport(topic, command, next(), at, fate),
        ...(receivedAt === undefined ? {} : { receivedAt }),
        ...(simTime === undefined ? {} : { simTime }),
      });
    } catch (error) {
      ctx.logger.error('an actuation report did not validate', {
        error: String(error),
        topic: topic.name,
      });
    }
  };
}

// The deadline travels with the command: the header's ttl, or the topic's default.
const withDeadline = (topic: Topic, header: Header): Header =>
  header.ttl === undefined ? { ...header, ttl: topic.ttl } : header;

const topicOf: Record<SimAction['kind'], Topic> = {
  twist: Topics.twist,
  joints: Topics.joints,
  freeze: Topics.estop,
};

/**
 * Subscribes the control lane's topics and sends what they carry to the sidecar, until the app
 * stops; reports each command's fate on `/telemetry/actuation`.
 */
export function wireCommands(wiring: CommandWiring): void {
  const { ctx, transport, sim: s, info } = wiring;
  const report = actuationReporter(wiring);
  const estop = new EStopLatch({ clock: ctx.clock });

  transport
    .subscribe(Topics.twist)
    .pipe(takeUntil(ctx.stop$))
    .subscribe((t) => {
      if (estop.latched) return report(Topics.twist, t.header, 'estop');
      if (!info()?.hasBase) return report(Topics.twist, t.header, 'refused');
      s.act({ kind: 'twist', linear: t.linear, angular: t.angular }, withDeadline(Topics.twist, t.header));
    });
  transport
    .subscribe(Topics.joints)
    .pipe(takeUntil(ctx.stop$))
    .subscribe((j) => {
      if (estop.latched) return report(Topics.joints, j.header, 'estop');
      if (!info()) return report(Topics.joints, j.header, 'refused');
      s.act(
        {
          kind: 'joints',
          name: j.name,
          ...(j.position ? { position: j.position } : {}),
          ...(j.velocity ? { velocity: j.velocity } : {}),
          ...(j.effort ? { effort: j.effort } : {}),
        },
        withDeadline(Topics.joints, j.header),
      );
    });
  transport
    .subscribe(Topics.estop)
    .pipe(takeUntil(ctx.stop$))
    .subscribe((e) => {
      if (e.engage) {
        estop.engage(e.header.sender, e.reason);
        s.act({ kind: 'freeze' }, e.header);
      } else {
        estop.clear(e.header.sender);
        report(Topics.estop, e.header, 'applied');
      }
    });
  transport
    .subscribe(Topics.action)
    .pipe(takeUntil(ctx.stop$))
    .subscribe((a) => {
      const run =
        a.action === 'reset'
          ? s.reset()
          : a.action === 'pause'
            ? s.pause()
            : a.action === 'resume'
              ? s.run({ stateHz: wiring.stateHz() })
              : undefined;
      if (!run) {
        ctx.logger.warn('unknown action', { action: a.action, supported: 'reset, pause, resume' });
        return report(Topics.action, a.header, 'refused');
      }
      run.then(
        () => report(Topics.action, a.header, 'applied'),
        (error: unknown) => {
          ctx.logger.error('action failed', { action: a.action, error: String(error) });
          report(Topics.action, a.header, 'refused');
        },
      );
    });

  s.actuations$.pipe(takeUntil(ctx.stop$)).subscribe((a) => {
    // Every act from here has a kind; a report without one is not about a command of ours.
    if (a.kind) report(topicOf[a.kind], a.command, a.fate, a.at, a.receivedAt, a.appliedSimTime);
  });
}
