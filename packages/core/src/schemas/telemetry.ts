import * as z from 'zod';
import { finite, list, message, name, Quaternion, Vector3 } from './common.js';

/** `/telemetry/joint_state`: positions, velocities and efforts of named joints. */
export const JointState = message({
  name: list(name()),
  position: list(finite()),
  velocity: list(finite()).optional(),
  effort: list(finite()).optional(),
})
  .superRefine((msg, ctx) => {
    for (const f of ['position', 'velocity', 'effort'] as const) {
      const values = msg[f];
      if (values !== undefined && values.length !== msg.name.length) {
        ctx.addIssue({
          code: 'custom',
          path: [f],
          message: `expected ${msg.name.length} values (one per name), received ${values.length}`,
        });
      }
    }
  })
  .meta({ id: 'JointState' });
export type JointState = z.infer<typeof JointState>;

/** `/telemetry/pose`: the robot base's pose (and optionally its velocity) in `frame`. */
export const Pose = message({
  frame: name(),
  position: Vector3,
  orientation: Quaternion,
  linear: Vector3.optional(),
  angular: Vector3.optional(),
}).meta({ id: 'Pose' });
export type Pose = z.infer<typeof Pose>;

/** `/telemetry/imu`: orientation, angular velocity (rad/s) and linear acceleration (m/s²). */
export const Imu = message({
  orientation: Quaternion,
  angularVelocity: Vector3,
  linearAcceleration: Vector3,
}).meta({ id: 'Imu' });
export type Imu = z.infer<typeof Imu>;

/** `/telemetry/battery`: charge as a fraction in [0, 1], voltage (V) and current (A, negative discharging). */
export const Battery = message({
  percentage: z.number().min(0).max(1),
  voltage: z.number().min(0),
  current: finite().optional(),
  charging: z.boolean(),
}).meta({ id: 'Battery' });
export type Battery = z.infer<typeof Battery>;

/** One component's status inside `/telemetry/diagnostics`. */
export const DiagnosticStatus = z
  .object({
    name: name(),
    level: z.enum(['ok', 'warn', 'error', 'stale']),
    message: z.string().max(1024),
    values: z.record(z.string().max(128), z.string().max(1024)).optional(),
  })
  .meta({ id: 'DiagnosticStatus' });
export type DiagnosticStatus = z.infer<typeof DiagnosticStatus>;

/** `/telemetry/diagnostics`: the status of each component. */
export const Diagnostics = message({ status: list(DiagnosticStatus) }).meta({ id: 'Diagnostics' });
export type Diagnostics = z.infer<typeof Diagnostics>;

/** A body's pose inside `/telemetry/sim_state`. */
export const BodyState = z
  .object({ name: name(), position: Vector3, orientation: Quaternion })
  .meta({ id: 'BodyState' });
export type BodyState = z.infer<typeof BodyState>;

/** `/telemetry/sim_state`: simulation time, speed and body poses. */
export const SimState = message({
  scene: name(),
  time: z.number().min(0),
  step: z.number().int().min(0),
  realtimeFactor: z.number().min(0),
  paused: z.boolean(),
  bodies: list(BodyState),
}).meta({ id: 'SimState' });
export type SimState = z.infer<typeof SimState>;

/**
 * What became of a command where it acts:
 *
 * - `applied`: it took effect (the actuator ran it, or the simulator stepped with it);
 * - `superseded`: a newer command from the same sender replaced it before it could act (latest wins);
 * - `expired`: it reached the actuator past its deadline and was dropped, never actuated late;
 * - `estop`: the actuator's e-stop was engaged;
 * - `refused`: the actuator could not use it (the scene has no such joint, no base…).
 */
export const CommandFate = z
  .enum(['applied', 'superseded', 'expired', 'estop', 'refused'])
  .meta({ id: 'CommandFate' });
export type CommandFate = z.infer<typeof CommandFate>;

/**
 * `/telemetry/actuation`: what became of a command where it acts. Whatever actuates commands (a robot
 * driver, a simulator) publishes one report per command it received — applied or not, with its
 * {@link CommandFate} — so that input→actuation covers every command: `actuatedAt − command.stamp`
 * (on one clock; the gateway stamps admitted commands on its own).
 */
export const Actuation = message({
  command: z.object({
    topic: z.string().max(128),
    sender: name(),
    seq: z.number().int().min(0),
    stamp: z.number().min(0),
  }),
  /** When it took effect (or was dropped), ms on the actuator's clock. */
  actuatedAt: z.number().min(0),
  /**
   * When the actuator received it, ms on the same clock as `actuatedAt` (optional): `actuatedAt −
   * receivedAt` is how long it waited for the step that applied it, and what came before is the
   * trip there. The gateway's latency budget splits input→actuation at this point.
   */
  receivedAt: z.number().min(0).optional(),
  /**
   * A simulator's applied command: the simulated time it acted from (the start of the step that
   * applied it), s (optional). A browser predicting the simulation puts the command at that step.
   */
  simTime: z.number().min(0).optional(),
  fate: CommandFate,
}).meta({ id: 'Actuation' });
export type Actuation = z.infer<typeof Actuation>;
