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
 * `/telemetry/actuation`: a command took effect. Whatever actuates commands (a robot driver, a
 * simulator) publishes one per actuated command, so that the sender and the gateway can measure
 * input→actuation latency: `actuatedAt − command.stamp` (on one clock, or corrected by the offset).
 */
export const Actuation = message({
  command: z.object({
    topic: z.string().max(128),
    sender: name(),
    seq: z.number().int().min(0),
    stamp: z.number().min(0),
  }),
  actuatedAt: z.number().min(0),
}).meta({ id: 'Actuation' });
export type Actuation = z.infer<typeof Actuation>;
