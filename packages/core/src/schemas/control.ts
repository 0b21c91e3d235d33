import * as z from 'zod';
import { finite, list, message, name, Vector3 } from './common.js';

/** `/controller/twist`: a velocity command for a mobile base (m/s and rad/s, base frame). */
export const Twist = message({ linear: Vector3, angular: Vector3 }).meta({
  id: 'Twist',
  description: 'Velocity command for a mobile base, in the base frame (m/s, rad/s).',
});
export type Twist = z.infer<typeof Twist>;

/**
 * `/controller/joints`: targets for named joints. Give positions, velocities or efforts (one or more),
 * each the same length as `name`.
 */
export const JointCommand = message({
  name: list(name()).min(1),
  position: list(finite()).optional(),
  velocity: list(finite()).optional(),
  effort: list(finite()).optional(),
})
  .superRefine((msg, ctx) => {
    const fields = ['position', 'velocity', 'effort'] as const;
    if (fields.every((f) => msg[f] === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['position'],
        message: 'expected at least one of position, velocity or effort',
      });
    }
    for (const f of fields) {
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
  .meta({ id: 'JointCommand', description: 'Position, velocity or effort targets for named joints.' });
export type JointCommand = z.infer<typeof JointCommand>;

/** `/controller/gamepad`: the raw state of a gamepad, as the Gamepad API reports it. */
export const Gamepad = message({
  axes: list(z.number().min(-1).max(1)),
  buttons: list(z.object({ pressed: z.boolean(), value: z.number().min(0).max(1) })),
}).meta({ id: 'Gamepad', description: 'Axes in [-1, 1] and buttons as the Gamepad API reports them.' });
export type Gamepad = z.infer<typeof Gamepad>;

/** `/controller/estop`: engage (latches) or clear the emergency stop. */
export const EStop = message({
  engage: z.boolean(),
  reason: z.string().max(512).optional(),
}).meta({ id: 'EStop', description: 'Engage (latching) or clear the emergency stop.' });
export type EStop = z.infer<typeof EStop>;

/** `/controller/action`: a discrete action such as `reset`, with optional arguments. */
export const Action = message({
  action: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'expected a lower-case action name such as "reset"'),
  args: z.record(z.string().max(64), z.union([z.string().max(1024), finite(), z.boolean()])).optional(),
}).meta({ id: 'Action', description: 'A discrete action (reset, pause, …) with optional arguments.' });
export type Action = z.infer<typeof Action>;
