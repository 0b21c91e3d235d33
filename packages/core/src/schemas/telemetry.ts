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

/** Most bodies, geoms, meshes… a scene description may carry (a Menagerie humanoid has a few hundred geoms). */
export const MAX_SCENE_ITEMS = 4096;
/** Largest base64 field of a scene description (a mesh's vertices, a texture), characters: 48 MiB. */
export const MAX_SCENE_BASE64 = 48 << 20;

const sceneItems = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_SCENE_ITEMS);
const base64 = () =>
  z
    .string()
    .max(MAX_SCENE_BASE64)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const triple = () => z.tuple([finite(), finite(), finite()]);
/** A quaternion in MuJoCo's order (w, x, y, z). */
const wxyz = () => z.tuple([finite(), finite(), finite(), finite()]);
const index = () => z.number().int().min(-1);

/** A body of a scene description: its parent (by index; the world is 0) and its pose in it at rest. */
export const SceneBody = z
  .object({ name: name(), parent: z.number().int().min(0), pos: triple(), quat: wxyz() })
  .meta({ id: 'SceneBody' });

/** A geom of a scene description: MuJoCo's type, size (3 numbers, as `geom_size`), pose in its body, look. */
export const SceneGeom = z
  .object({
    name: name(),
    body: z.number().int().min(0),
    type: z.enum(['plane', 'hfield', 'sphere', 'capsule', 'ellipsoid', 'cylinder', 'box', 'mesh', 'sdf']),
    size: triple(),
    pos: triple(),
    quat: wxyz(),
    rgba: wxyz(),
    group: z.number().int(),
    /** Index into `meshes` (type `mesh`), else -1. */
    mesh: index(),
    /** Index into `materials`, else -1. */
    material: index(),
  })
  .meta({ id: 'SceneGeom' });

/** A material: its colour and its colour texture (index into `textures`, else -1). */
export const SceneMaterial = z
  .object({
    rgba: wxyz(),
    texture: index(),
    texrepeat: z.tuple([finite(), finite()]),
    /** Repeats per metre rather than across the object. */
    texuniform: z.boolean(),
  })
  .meta({ id: 'SceneMaterial' });

/** A texture: `channels` bytes per pixel, rows from the top, base64. */
export const SceneTexture = z
  .object({
    width: z.number().int().min(1),
    height: z.number().int().min(1),
    channels: z.number().int().min(1).max(4),
    data: base64(),
  })
  .meta({ id: 'SceneTexture' });

/** A mesh in its geom's frame: vertices as float32 (x, y, z), faces as uint32 (3 per triangle), little-endian, base64. */
export const SceneMesh = z.object({ vertices: base64(), faces: base64() }).meta({ id: 'SceneMesh' });

/** A light in its body: position, direction, diffuse colour. */
export const SceneLight = z
  .object({
    body: z.number().int().min(0),
    type: z.enum(['spot', 'directional', 'point', 'image']),
    pos: triple(),
    dir: triple(),
    diffuse: triple(),
    active: z.boolean(),
  })
  .meta({ id: 'SceneLight' });

/** The model's free camera (MuJoCo's `visual/global` and `statistic`): what its viewer opens with. */
export const SceneView = z
  .object({
    /** Vertical field of view, degrees. */
    fovy: finite(),
    azimuth: finite(),
    elevation: finite(),
    /** The model's size (`stat.extent`) and centre (`stat.center`): the free camera looks there from 1.5 × extent. */
    extent: finite(),
    center: triple(),
    /** MuJoCo's headlight (`visual/headlight`): a light from the camera, and the ambient light. */
    headlight: z.object({ ambient: triple(), diffuse: triple(), active: z.boolean() }).optional(),
  })
  .meta({ id: 'SceneView' });

/**
 * `/telemetry/sim_scene`: what a simulator's scene looks like — bodies, geoms, meshes, materials,
 * textures and lights, from its MuJoCo model — published once per loaded scene (a late subscriber
 * gets the last one); the bodies then move by `/telemetry/sim_state`.
 */
export const SimScene = message({
  scene: name(),
  bodies: sceneItems(SceneBody),
  geoms: sceneItems(SceneGeom),
  meshes: sceneItems(SceneMesh),
  materials: sceneItems(SceneMaterial),
  textures: sceneItems(SceneTexture),
  lights: sceneItems(SceneLight),
  view: SceneView.optional(),
}).meta({ id: 'SimScene' });
export type SimScene = z.infer<typeof SimScene>;
