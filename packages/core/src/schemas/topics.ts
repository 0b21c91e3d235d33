import { Action, EStop, Gamepad, JointCommand, Twist } from './control.js';
import {
  MediaConnect,
  MediaConsume,
  MediaConsumer,
  MediaJoin,
  MediaKeyframe,
  MediaStats,
  MediaStreams,
  MediaTransport,
} from './media.js';
import { Actuation, Battery, Diagnostics, Imu, JointState, Pose, SimState } from './telemetry.js';
import { defineTopic, type Topic } from './topic.js';

/** The built-in topics of the Telekit protocol, by short name. */
export const Topics = {
  twist: defineTopic({
    name: '/controller/twist',
    lane: 'control',
    schema: Twist,
    description: 'Velocity command for the mobile base.',
  }),
  joints: defineTopic({
    name: '/controller/joints',
    lane: 'control',
    schema: JointCommand,
    description: 'Targets for named joints.',
  }),
  gamepad: defineTopic({
    name: '/controller/gamepad',
    lane: 'control',
    schema: Gamepad,
    description: 'Raw gamepad state.',
  }),
  estop: defineTopic({
    name: '/controller/estop',
    lane: 'control',
    schema: EStop,
    // An e-stop is honoured however late it arrives.
    ttl: 60_000,
    description: 'Engage or clear the latching emergency stop.',
  }),
  action: defineTopic({
    name: '/controller/action',
    lane: 'control',
    schema: Action,
    ttl: 1_000,
    description: 'A discrete action such as reset.',
  }),
  jointState: defineTopic({
    name: '/telemetry/joint_state',
    lane: 'telemetry',
    schema: JointState,
    description: 'Joint positions, velocities and efforts.',
  }),
  pose: defineTopic({
    name: '/telemetry/pose',
    lane: 'telemetry',
    schema: Pose,
    description: 'Pose and velocity of the robot base.',
  }),
  imu: defineTopic({ name: '/telemetry/imu', lane: 'telemetry', schema: Imu, description: 'IMU readings.' }),
  battery: defineTopic({
    name: '/telemetry/battery',
    lane: 'telemetry',
    schema: Battery,
    depth: 2,
    description: 'Battery charge, voltage and current.',
  }),
  diagnostics: defineTopic({
    name: '/telemetry/diagnostics',
    lane: 'telemetry',
    schema: Diagnostics,
    description: 'Status of each component.',
  }),
  simState: defineTopic({
    name: '/telemetry/sim_state',
    lane: 'telemetry',
    schema: SimState,
    description: 'Simulation time, speed and body poses.',
  }),
  actuation: defineTopic({
    name: '/telemetry/actuation',
    lane: 'telemetry',
    schema: Actuation,
    depth: 256,
    description: 'A command took effect (for input→actuation latency).',
  }),
  mediaStreams: defineTopic({
    name: '/media/streams',
    lane: 'media',
    schema: MediaStreams,
    description: 'Streams the server offers.',
  }),
  mediaJoin: defineTopic({
    name: '/media/join',
    lane: 'media',
    schema: MediaJoin,
    description: 'A viewer asks to watch a stream.',
  }),
  mediaTransport: defineTopic({
    name: '/media/transport',
    lane: 'media',
    schema: MediaTransport,
    description: "The server's receive transport for a viewer.",
  }),
  mediaConnect: defineTopic({
    name: '/media/connect',
    lane: 'media',
    schema: MediaConnect,
    description: "The viewer's DTLS parameters.",
  }),
  mediaConsume: defineTopic({
    name: '/media/consume',
    lane: 'media',
    schema: MediaConsume,
    description: 'A viewer asks for a consumer of a stream.',
  }),
  mediaConsumer: defineTopic({
    name: '/media/consumer',
    lane: 'media',
    schema: MediaConsumer,
    description: "The server's consumer for a viewer.",
  }),
  mediaKeyframe: defineTopic({
    name: '/media/keyframe',
    lane: 'media',
    schema: MediaKeyframe,
    description: 'Ask the encoder for a keyframe.',
  }),
  mediaStats: defineTopic({
    name: '/media/stats',
    lane: 'media',
    schema: MediaStats,
    description: "A stream's measured figures.",
  }),
} as const;

/** Every built-in topic. */
export const builtinTopics: readonly Topic[] = Object.values(Topics) as readonly Topic[];

const byName = new Map<string, Topic>(builtinTopics.map((t) => [t.name, t]));

/** Finds a built-in topic by its name, e.g. `/controller/twist`; `undefined` when there is none. */
export function topicByName(name: string): Topic | undefined {
  return byName.get(name);
}
