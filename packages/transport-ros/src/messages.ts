/**
 * The ROS 2 messages of the default mapping, as zod schemas: their TypeScript types, and the check
 * that names a field of the wrong type in a message from (or for) the ROS graph.
 *
 * rclnodejs delivers `float64[]` fields as `Float64Array` (its `enableTypedArray` default) and
 * `int64` as `bigint`; the schemas accept both.
 *
 * @module
 */
import * as z from 'zod';

const num = () => z.union([z.number(), z.bigint().transform(Number)]);
/** A float64 field: ROS uses NaN for "not measured". */
const float = () => z.union([z.number(), z.nan()]);
const nums = () =>
  z.preprocess(
    (v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v),
    z.array(z.number()),
  );

export const Time = z.object({ sec: num(), nanosec: num() });
export const RosHeader = z.object({ stamp: Time, frame_id: z.string() });
export const Vector3Msg = z.object({ x: float(), y: float(), z: float() });
export const QuaternionMsg = z.object({ x: float(), y: float(), z: float(), w: float() });
export const TwistMsg = z.object({ linear: Vector3Msg, angular: Vector3Msg });
export const TwistStampedMsg = z.object({ header: RosHeader, twist: TwistMsg });
export const OdometryMsg = z.object({
  header: RosHeader,
  child_frame_id: z.string(),
  pose: z.object({
    pose: z.object({ position: Vector3Msg, orientation: QuaternionMsg }),
    covariance: nums(),
  }),
  twist: z.object({ twist: TwistMsg, covariance: nums() }),
});
export const JointStateMsg = z.object({
  header: RosHeader,
  name: z.array(z.string()),
  position: nums(),
  velocity: nums(),
  effort: nums(),
});
export const ImuMsg = z.object({
  header: RosHeader,
  orientation: QuaternionMsg,
  orientation_covariance: nums(),
  angular_velocity: Vector3Msg,
  angular_velocity_covariance: nums(),
  linear_acceleration: Vector3Msg,
  linear_acceleration_covariance: nums(),
});
export const BatteryStateMsg = z.object({
  header: RosHeader,
  voltage: float(),
  current: float(),
  charge: float(),
  capacity: float(),
  percentage: float(),
  power_supply_status: z.number().int(),
  present: z.boolean(),
});
export const DiagnosticArrayMsg = z.object({
  header: RosHeader,
  status: z.array(
    z.object({
      level: num(),
      name: z.string(),
      message: z.string(),
      hardware_id: z.string(),
      values: z.array(z.object({ key: z.string(), value: z.string() })),
    }),
  ),
});
export const JointTrajectoryMsg = z.object({
  header: RosHeader,
  joint_names: z.array(z.string()),
  points: z.array(
    z.object({
      positions: nums(),
      velocities: nums(),
      accelerations: nums(),
      effort: nums(),
      time_from_start: Time,
    }),
  ),
});
export const StringMsg = z.object({ data: z.string() });

export type Time = z.infer<typeof Time>;
export type RosHeader = z.infer<typeof RosHeader>;
export type TwistMsg = z.infer<typeof TwistMsg>;
export type TwistStampedMsg = z.infer<typeof TwistStampedMsg>;
export type OdometryMsg = z.infer<typeof OdometryMsg>;
export type JointStateMsg = z.infer<typeof JointStateMsg>;
export type ImuMsg = z.infer<typeof ImuMsg>;
export type BatteryStateMsg = z.infer<typeof BatteryStateMsg>;
export type DiagnosticArrayMsg = z.infer<typeof DiagnosticArrayMsg>;
export type JointTrajectoryMsg = z.infer<typeof JointTrajectoryMsg>;

/** The schema of each ROS type this package knows, by its interface name. */
export const rosSchemas: Readonly<Record<string, z.ZodType>> = {
  'geometry_msgs/msg/Twist': TwistMsg,
  'geometry_msgs/msg/TwistStamped': TwistStampedMsg,
  'nav_msgs/msg/Odometry': OdometryMsg,
  'sensor_msgs/msg/JointState': JointStateMsg,
  'sensor_msgs/msg/Imu': ImuMsg,
  'sensor_msgs/msg/BatteryState': BatteryStateMsg,
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArrayMsg,
  'trajectory_msgs/msg/JointTrajectory': JointTrajectoryMsg,
  'std_msgs/msg/String': StringMsg,
};

/** A ROS time as milliseconds since the epoch. */
export const timeToMs = (t: Time): number => t.sec * 1000 + t.nanosec / 1e6;

/** Milliseconds since the epoch as a ROS time. */
export function msToTime(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  return { sec, nanosec: Math.round((ms - sec * 1000) * 1e6) };
}

/** Seconds as a ROS duration. */
export function secondsToDuration(s: number): Time {
  const sec = Math.floor(s);
  return { sec, nanosec: Math.round((s - sec) * 1e9) };
}
