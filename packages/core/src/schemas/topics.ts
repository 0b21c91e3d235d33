import { Action, EStop, Gamepad, JointCommand, Twist } from './control.js';
import {
  MediaConnect,
  MediaConsume,
  MediaConsumer,
  MediaEmpty,
  MediaJoin,
  MediaJoined,
  MediaResume,
  MediaStats,
  MediaStreams,
  MediaTransport,
} from './media.js';
import { Actuation, Battery, Diagnostics, Imu, JointState, Pose, SimScene, SimState } from './telemetry.js';
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
  simScene: defineTopic({
    name: '/telemetry/sim_scene',
    lane: 'telemetry',
    schema: SimScene,
    depth: 1,
    description:
      "What the simulator's scene looks like (bodies, geoms, meshes, materials, lights), once per scene.",
  }),
  actuation: defineTopic({
    name: '/telemetry/actuation',
    lane: 'telemetry',
    schema: Actuation,
    depth: 256,
    description:
      'What became of each command where it acts: applied, superseded, expired… (input→actuation).',
  }),
  mediaStreams: defineTopic({
    name: '/media/streams',
    lane: 'media',
    schema: MediaEmpty,
    answer: MediaStreams,
    description: 'Streams the server offers.',
  }),
  mediaJoin: defineTopic({
    name: '/media/join',
    lane: 'media',
    schema: MediaJoin,
    answer: MediaJoined,
    description: "A viewer asks to watch a stream; the answer has the router's RTP capabilities.",
  }),
  mediaTransport: defineTopic({
    name: '/media/transport',
    lane: 'media',
    schema: MediaEmpty,
    answer: MediaTransport,
    description: 'A receive transport for the asking viewer.',
  }),
  mediaConnect: defineTopic({
    name: '/media/connect',
    lane: 'media',
    schema: MediaConnect,
    answer: MediaEmpty,
    description: "The viewer's DTLS parameters for its transport.",
  }),
  mediaConsume: defineTopic({
    name: '/media/consume',
    lane: 'media',
    schema: MediaConsume,
    answer: MediaConsumer,
    description: 'A viewer asks for a (paused) consumer of a stream on its transport.',
  }),
  mediaResume: defineTopic({
    name: '/media/resume',
    lane: 'media',
    schema: MediaResume,
    answer: MediaEmpty,
    description: 'The viewer is ready: start sending.',
  }),
  mediaStats: defineTopic({
    name: '/media/stats',
    lane: 'media',
    schema: MediaEmpty,
    answer: MediaStats,
    description: "Every stream's figures, and the asking viewer's own.",
  }),
} as const;

/** Every built-in topic. */
export const builtinTopics: readonly Topic[] = Object.values(Topics) as readonly Topic[];

const byName = new Map<string, Topic>(builtinTopics.map((t) => [t.name, t]));

/** Finds a built-in topic by its name, e.g. `/controller/twist`; `undefined` when there is none. */
export function topicByName(name: string): Topic | undefined {
  return byName.get(name);
}
