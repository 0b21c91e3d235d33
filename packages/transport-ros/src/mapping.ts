/**
 * Which Telekit topic is which ROS topic, of which type, with which QoS, converted how.
 *
 * @module
 */
import {
  type Battery,
  type Diagnostics,
  type Header,
  type Imu,
  type JointCommand,
  type JointState,
  type Pose,
  type Topic,
  Topics,
  type Twist,
} from '@telekit/core';
import {
  type BatteryStateMsg,
  type DiagnosticArrayMsg,
  type ImuMsg,
  type JointStateMsg,
  type JointTrajectoryMsg,
  msToTime,
  type OdometryMsg,
  secondsToDuration,
  type TwistMsg,
  type TwistStampedMsg,
} from './messages.js';

/** Quality of service of a ROS topic. Defaults: reliable, volatile, keep last 10. */
export interface QosSpec {
  reliability?: 'reliable' | 'best-effort';
  durability?: 'volatile' | 'transient-local';
  history?: 'keep-last' | 'keep-all';
  depth?: number;
}

/** The sensor-data profile: best effort, keep last 5 (what drivers publish IMUs and cameras with). */
export const SENSOR_QOS: QosSpec = { reliability: 'best-effort', depth: 5 };

/** What every line of the mapping has. */
export interface MappingBase<T> {
  /** The Telekit topic. */
  readonly topic: Topic<T>;
  /** The ROS topic, e.g. `/cmd_vel` (relative names resolve in the node's namespace). */
  readonly ros: string;
  /** The ROS interface, e.g. `geometry_msgs/msg/Twist`. */
  readonly type: string;
  readonly qos?: QosSpec;
}

/** Telekit → ROS: commands. */
export interface ToRosMapping<T = never> extends MappingBase<T> {
  readonly direction: 'to-ros';
  readonly toRos: (message: T) => object;
}

/** ROS → Telekit: telemetry. */
export interface FromRosMapping<T = never> extends MappingBase<T> {
  readonly direction: 'from-ros';
  /** `header` is made by the transport: the ROS message's stamp where it has one. */
  readonly fromRos: (message: never, header: Header) => T;
  /** The transport reports itself connected only while this topic has a publisher. Default true. */
  readonly required?: boolean;
}

/** One line of the mapping. */
export type RosMapping = ToRosMapping<never> | FromRosMapping<never>;

/** A typed line of the mapping (the union above erases the message type). */
export function toRos<T, R extends object>(m: MappingBase<T> & { toRos: (message: T) => R }): RosMapping {
  return { ...m, direction: 'to-ros' } as unknown as RosMapping;
}

/** A typed line of the mapping (the union above erases the message type). */
export function fromRos<T, R>(
  m: MappingBase<T> & { fromRos: (message: R, header: Header) => T; required?: boolean },
): RosMapping {
  return { ...m, direction: 'from-ros' } as unknown as RosMapping;
}

/** Options of {@link defaultMappings}. */
export interface DefaultMappingOptions {
  /** Send `geometry_msgs/msg/TwistStamped` (ROS 2 Jazzy's `diff_drive_controller` wants it). Default false. */
  twistStamped?: boolean;
  /** `frame_id` of stamped commands. Default `base_link`. */
  frameId?: string;
  /** `/controller/joints` → this `JointTrajectory` topic. Default `/joint_trajectory_controller/joint_trajectory`. */
  jointTrajectory?: string;
  /** How long the trajectory point takes to reach, s. Default 0.1. */
  timeFromStart?: number;
}

const level = ['ok', 'warn', 'error', 'stale'] as const;

/**
 * The default mapping (see the table in the README):
 * `/controller/twist` → `/cmd_vel`, `/controller/joints` → a `JointTrajectory`,
 * `/telemetry/joint_state` ← `/joint_states`, `/telemetry/pose` ← `/odom`, `/telemetry/imu` ← `/imu`,
 * `/telemetry/battery` ← `/battery_state`, `/telemetry/diagnostics` ← `/diagnostics`.
 */
export function defaultMappings(options: DefaultMappingOptions = {}): RosMapping[] {
  const frameId = options.frameId ?? 'base_link';
  return [
    options.twistStamped
      ? toRos<Twist, TwistStampedMsg>({
          topic: Topics.twist,
          ros: '/cmd_vel',
          type: 'geometry_msgs/msg/TwistStamped',
          qos: { depth: 1 },
          toRos: (t) => ({
            header: { stamp: msToTime(t.header.stamp), frame_id: frameId },
            twist: { linear: t.linear, angular: t.angular },
          }),
        })
      : toRos<Twist, TwistMsg>({
          topic: Topics.twist,
          ros: '/cmd_vel',
          type: 'geometry_msgs/msg/Twist',
          qos: { depth: 1 },
          toRos: (t) => ({ linear: t.linear, angular: t.angular }),
        }),
    toRos<JointCommand, JointTrajectoryMsg>({
      topic: Topics.joints,
      ros: options.jointTrajectory ?? '/joint_trajectory_controller/joint_trajectory',
      type: 'trajectory_msgs/msg/JointTrajectory',
      qos: { depth: 1 },
      toRos: (j) => ({
        // A zero stamp: start now (the controller's clock, not ours).
        header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
        joint_names: [...j.name],
        points: [
          {
            positions: [...(j.position ?? [])],
            velocities: [...(j.velocity ?? [])],
            accelerations: [],
            effort: [...(j.effort ?? [])],
            time_from_start: secondsToDuration(options.timeFromStart ?? 0.1),
          },
        ],
      }),
    }),
    fromRos<JointState, JointStateMsg>({
      topic: Topics.jointState,
      ros: '/joint_states',
      type: 'sensor_msgs/msg/JointState',
      fromRos: (m, header) => ({
        header,
        name: m.name,
        position: m.position,
        // ROS leaves unmeasured arrays empty.
        ...(m.velocity.length === m.name.length ? { velocity: m.velocity } : {}),
        ...(m.effort.length === m.name.length ? { effort: m.effort } : {}),
      }),
    }),
    fromRos<Pose, OdometryMsg>({
      topic: Topics.pose,
      ros: '/odom',
      type: 'nav_msgs/msg/Odometry',
      fromRos: (m, header) => ({
        header,
        frame: m.header.frame_id || 'odom',
        position: m.pose.pose.position,
        orientation: m.pose.pose.orientation,
        linear: m.twist.twist.linear,
        angular: m.twist.twist.angular,
      }),
    }),
    fromRos<Imu, ImuMsg>({
      topic: Topics.imu,
      ros: '/imu',
      type: 'sensor_msgs/msg/Imu',
      qos: SENSOR_QOS,
      fromRos: (m, header) => ({
        header,
        orientation: m.orientation,
        angularVelocity: m.angular_velocity,
        linearAcceleration: m.linear_acceleration,
      }),
    }),
    fromRos<Battery, BatteryStateMsg>({
      topic: Topics.battery,
      ros: '/battery_state',
      type: 'sensor_msgs/msg/BatteryState',
      required: false,
      fromRos: (m, header) => {
        // Unmeasured values are NaN in ROS; the charge ratio stands in for a missing percentage.
        const percentage = Number.isFinite(m.percentage) ? m.percentage : m.charge / m.capacity;
        return {
          header,
          percentage: Number.isFinite(percentage) ? Math.min(1, Math.max(0, percentage)) : Number.NaN,
          voltage: m.voltage,
          ...(Number.isFinite(m.current) ? { current: m.current } : {}),
          charging: m.power_supply_status === 1, // POWER_SUPPLY_STATUS_CHARGING
        };
      },
    }),
    fromRos<Diagnostics, DiagnosticArrayMsg>({
      topic: Topics.diagnostics,
      ros: '/diagnostics',
      type: 'diagnostic_msgs/msg/DiagnosticArray',
      required: false,
      fromRos: (m, header) => ({
        header,
        status: m.status.map((s) => ({
          name: s.name,
          level: level[Number(s.level)] ?? 'error',
          message: s.message,
          ...(s.values.length ? { values: Object.fromEntries(s.values.map((v) => [v.key, v.value])) } : {}),
        })),
      }),
    }),
  ];
}

/**
 * Carries a Telekit topic over ROS whole (header included) as JSON in `std_msgs/msg/String`: for
 * Telekit apps talking to each other across a ROS graph, or topics with no standard ROS type.
 */
export function envelope(
  topic: Topic,
  direction: 'to-ros' | 'from-ros',
  ros?: string,
  qos?: QosSpec,
): RosMapping {
  const line = {
    topic,
    ros: ros ?? `/telekit${topic.name}`,
    type: 'std_msgs/msg/String',
    ...(qos ? { qos } : {}),
  };
  return direction === 'to-ros'
    ? toRos<unknown, { data: string }>({ ...line, toRos: (m) => ({ data: JSON.stringify(m) }) })
    : fromRos<unknown, { data: string }>({ ...line, fromRos: (m) => JSON.parse(m.data) as unknown });
}

/** The same mapping with some ROS topic names changed: `remap(defaultMappings(), { '/telemetry/pose': '/wheel/odom' })`. */
export function remap(
  mappings: readonly RosMapping[],
  names: Readonly<Record<string, string>>,
): RosMapping[] {
  return mappings.map((m) => (names[m.topic.name] ? { ...m, ros: names[m.topic.name]! } : m));
}
