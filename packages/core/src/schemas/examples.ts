import type { MessageOf } from './topic.js';
import type { Topics } from './topics.js';

const header = { seq: 7, stamp: 1_767_225_600_000, sender: 'operator-1' };
const zero = { x: 0, y: 0, z: 0 };
const identity = { x: 0, y: 0, z: 0, w: 1 };

/** One valid message per built-in topic: for docs, the JSON Schema's `examples`, and tests. */
export const exampleMessages: { readonly [K in keyof typeof Topics]: MessageOf<(typeof Topics)[K]> } = {
  twist: { header: { ...header, ttl: 200 }, linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.3 } },
  joints: { header, name: ['shoulder', 'elbow'], position: [0.1, -0.4] },
  gamepad: {
    header,
    axes: [0, -1, 0.25, 0],
    buttons: [
      { pressed: true, value: 1 },
      { pressed: false, value: 0 },
    ],
  },
  estop: { header, engage: true, reason: 'person in the cell' },
  action: { header, action: 'reset', args: { scene: 'diff-drive' } },
  jointState: { header, name: ['shoulder', 'elbow'], position: [0.1, -0.4], velocity: [0, 0] },
  pose: {
    header,
    frame: 'odom',
    position: { x: 1, y: 2, z: 0 },
    orientation: identity,
    linear: zero,
    angular: zero,
  },
  imu: { header, orientation: identity, angularVelocity: zero, linearAcceleration: { x: 0, y: 0, z: 9.81 } },
  battery: { header, percentage: 0.82, voltage: 24.1, current: -1.5, charging: false },
  diagnostics: {
    header,
    status: [{ name: 'motors', level: 'ok', message: 'nominal', values: { temp: '41' } }],
  },
  simState: {
    header,
    scene: 'diff-drive',
    time: 12.5,
    step: 1250,
    realtimeFactor: 1,
    paused: false,
    bodies: [{ name: 'base', position: { x: 1, y: 2, z: 0.1 }, orientation: identity }],
  },
  simScene: {
    header,
    scene: 'diff-drive',
    bodies: [
      { name: 'world', parent: 0, pos: [0, 0, 0], quat: [1, 0, 0, 0] },
      { name: 'base', parent: 0, pos: [0, 0, 0.08], quat: [1, 0, 0, 0] },
    ],
    geoms: [
      {
        name: 'chassis',
        body: 1,
        type: 'box',
        size: [0.2, 0.15, 0.05],
        pos: [0, 0, 0],
        quat: [1, 0, 0, 0],
        rgba: [0.95, 0.55, 0.1, 1],
        group: 0,
        mesh: -1,
        material: -1,
      },
    ],
    meshes: [],
    materials: [],
    textures: [],
    lights: [
      { body: 0, type: 'spot', pos: [0, 0, 4], dir: [0, 0, -1], diffuse: [0.8, 0.8, 0.8], active: true },
    ],
    view: { fovy: 45, azimuth: 90, elevation: -45, extent: 0.5, center: [0, 0, 0.08] },
  },
  actuation: {
    header: { ...header, sender: 'robot' },
    command: { topic: '/controller/twist', sender: 'operator-1', seq: 7, stamp: 1_767_225_599_980 },
    actuatedAt: 1_767_225_599_992,
    fate: 'applied',
  },
  mediaStreams: {},
  mediaJoin: { stream: 'sim-camera' },
  mediaTransport: {},
  mediaConnect: { transport: 'transport-1', dtlsParameters: { role: 'client' } },
  mediaConsume: { transport: 'transport-1', stream: 'sim-camera', rtpCapabilities: {} },
  mediaResume: { consumer: 'consumer-1' },
  mediaStats: {},
};
