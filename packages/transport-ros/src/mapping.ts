/**
 * Which Telekit topic is which ROS topic, of which type, with which QoS, converted how.
 *
 * @module
 */
import { type Header, type JointState, type Pose, type Topic, Topics, type Twist } from '@telekit/core';
import type { Battery, Diagnostics, Imu, JointCommand } from '@telekit/core/schemas';
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
  /**
   * The way back, for a bridge that stands where the ROS graph would (a rosbridge endpoint receiving
   * a roslibjs page's `/cmd_vel`): the ROS message as a Telekit one. Absent: not accepted from ROS clients.
   */
  readonly fromRos?: (message: never, header: Header) => T;
}

/** ROS → Telekit: telemetry. */
export interface FromRosMapping<T = never> extends MappingBase<T> {
  readonly direction: 'from-ros';
  /** `header` is made by the transport: the ROS message's stamp where it has one. */
  readonly fromRos: (message: never, header: Header) => T;
  /** The transport reports itself connected only while this topic has a publisher. Default true. */
  readonly required?: boolean;
  /**
   * The way back, for a bridge that stands where the ROS graph would (a rosbridge endpoint serving
   * `/odom` to a roslibjs page): the Telekit message as the ROS one. Absent: not offered to ROS clients.
   */
  readonly toRos?: (message: T) => object;
}

/** One line of the mapping. */
export type RosMapping = ToRosMapping<never> | FromRosMapping<never>;

/** A typed line of the mapping (the union above erases the message type). */
export function toRos<T, R extends object>(
  m: MappingBase<T> & { toRos: (message: T) => R; fromRos?: (message: R, header: Header) => T },
): RosMapping {
  return { ...m, direction: 'to-ros' } as unknown as RosMapping;
}

/** A typed line of the mapping (the union above erases the message type). */
export function fromRos<T, R>(
  m: MappingBase<T> & {
    fromRos: (message: R, header: Header) => T;
    required?: boolean;
    toRos?: (message: T) => R;
  },
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

const zero3 = () => ({ x: 0, y: 0, z: 0 });
const rosHeader = (stampMs: number, frame_id: string) => ({ stamp: msToTime(stampMs), frame_id });

/** A `/cmd_vel` from a ROS client, stamped or not (a bridge accepts both whatever it sends on). */
const twistBack = (m: TwistMsg | TwistStampedMsg, header: Header): Twist => {
  const t = 'twist' in m ? m.twist : m;
  return { header, linear: t.linear, angular: t.angular };
};

/**
 * The default mapping (see the table in the README):
 * `/controller/twist` → `/cmd_vel`, `/controller/joints` → a `JointTrajectory`,
 * `/telemetry/joint_state` ← `/joint_states`, `/telemetry/pose` ← `/odom`, `/telemetry/imu` ← `/imu`,
 * `/telemetry/battery` ← `/battery_state`, `/telemetry/diagnostics` ← `/diagnostics`.
 */
export function defaultMappings(options: DefaultMappingOptions = {}): RosMapping[] {
  const frameId = options.frameId ?? 'base_link';
  return [
    cmdVelLine(options.twistStamped ?? false, frameId),
    jointTrajectoryLine(
      options.jointTrajectory ?? '/joint_trajectory_controller/joint_trajectory',
      options.timeFromStart ?? 0.1,
    ),
    jointStatesLine(),
    odomLine(frameId),
    imuLine(frameId),
    batteryLine(),
    diagnosticsLine(),
  ];
}

/** `/controller/twist` → `/cmd_vel`, a `TwistStamped` (in `frameId`) or a plain `Twist`. */
function cmdVelLine(stamped: boolean, frameId: string): RosMapping {
  return stamped
    ? toRos<Twist, TwistStampedMsg>({
        topic: Topics.twist,
        ros: '/cmd_vel',
        type: 'geometry_msgs/msg/TwistStamped',
        qos: { depth: 1 },
        toRos: (t) => ({
          header: { stamp: msToTime(t.header.stamp), frame_id: frameId },
          twist: { linear: t.linear, angular: t.angular },
        }),
        fromRos: twistBack as never,
      })
    : toRos<Twist, TwistMsg>({
        topic: Topics.twist,
        ros: '/cmd_vel',
        type: 'geometry_msgs/msg/Twist',
        qos: { depth: 1 },
        toRos: (t) => ({ linear: t.linear, angular: t.angular }),
        fromRos: twistBack as never,
      });
}

/** `/controller/joints` → a one-point `JointTrajectory` on `ros`, reached in `timeFromStart` s. */
function jointTrajectoryLine(ros: string, timeFromStart: number): RosMapping {
  return toRos<JointCommand, JointTrajectoryMsg>({
    topic: Topics.joints,
    ros,
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
          time_from_start: secondsToDuration(timeFromStart),
        },
      ],
    }),
    // The last point of the trajectory is the target.
    fromRos: (m, header) => {
      const p = m.points.at(-1);
      return {
        header,
        name: [...m.joint_names],
        ...(p?.positions.length ? { position: [...p.positions] } : {}),
        ...(p?.velocities.length ? { velocity: [...p.velocities] } : {}),
        ...(p?.effort.length ? { effort: [...p.effort] } : {}),
      };
    },
  });
}

/** `/telemetry/joint_state` ← `/joint_states`. */
function jointStatesLine(): RosMapping {
  return fromRos<JointState, JointStateMsg>({
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
    toRos: (j) => ({
      header: rosHeader(j.header.stamp, ''),
      name: [...j.name],
      position: [...j.position],
      velocity: [...(j.velocity ?? [])],
      effort: [...(j.effort ?? [])],
    }),
  });
}

/** `/telemetry/pose` ← `/odom` (the robot's frame, `frameId`, as the child frame on the way back). */
function odomLine(frameId: string): RosMapping {
  return fromRos<Pose, OdometryMsg>({
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
    toRos: (p) => ({
      header: rosHeader(p.header.stamp, p.frame),
      child_frame_id: frameId,
      pose: {
        pose: { position: p.position, orientation: p.orientation },
        covariance: new Array(36).fill(0),
      },
      twist: {
        twist: { linear: p.linear ?? zero3(), angular: p.angular ?? zero3() },
        covariance: new Array(36).fill(0),
      },
    }),
  });
}

/** `/telemetry/imu` ← `/imu`, with the sensor-data QoS. */
function imuLine(frameId: string): RosMapping {
  return fromRos<Imu, ImuMsg>({
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
    toRos: (i) => ({
      header: rosHeader(i.header.stamp, frameId),
      orientation: i.orientation,
      orientation_covariance: new Array(9).fill(0),
      angular_velocity: i.angularVelocity,
      angular_velocity_covariance: new Array(9).fill(0),
      linear_acceleration: i.linearAcceleration,
      linear_acceleration_covariance: new Array(9).fill(0),
    }),
  });
}

/** `/telemetry/battery` ← `/battery_state` (not required: many robots have none). */
function batteryLine(): RosMapping {
  return fromRos<Battery, BatteryStateMsg>({
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
    toRos: (b) => ({
      header: rosHeader(b.header.stamp, ''),
      voltage: b.voltage,
      current: b.current ?? Number.NaN,
      charge: Number.NaN,
      capacity: Number.NaN,
      percentage: b.percentage,
      power_supply_status: b.charging ? 1 : 2, // CHARGING : DISCHARGING
      present: true,
    }),
  });
}

/** `/telemetry/diagnostics` ← `/diagnostics` (not required); levels by index in `level`. */
function diagnosticsLine(): RosMapping {
  return fromRos<Diagnostics, DiagnosticArrayMsg>({
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
    toRos: (d) => ({
      header: rosHeader(d.header.stamp, ''),
      status: d.status.map((s) => ({
        level: level.indexOf(s.level),
        name: s.name,
        message: s.message,
        hardware_id: '',
        values: Object.entries(s.values ?? {}).map(([key, value]) => ({ key, value })),
      })),
    }),
  });
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
    ? toRos<unknown, { data: string }>({
        ...line,
        toRos: (m) => ({ data: JSON.stringify(m) }),
        fromRos: (m) => JSON.parse(m.data) as unknown,
      })
    : fromRos<unknown, { data: string }>({
        ...line,
        fromRos: (m) => JSON.parse(m.data) as unknown,
        toRos: (m) => ({ data: JSON.stringify(m) }),
      });
}

/** The same mapping with some ROS topic names changed: `remap(defaultMappings(), { '/telemetry/pose': '/wheel/odom' })`. */
export function remap(
  mappings: readonly RosMapping[],
  names: Readonly<Record<string, string>>,
): RosMapping[] {
  return mappings.map((m) => (names[m.topic.name] ? { ...m, ros: names[m.topic.name]! } : m));
}
