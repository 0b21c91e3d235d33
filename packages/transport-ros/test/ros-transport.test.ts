import { createApp, headerSequence, isTelekitError, Topics, type Twist } from '@telekit/core';
import { describeTransport } from '@telekit/testkit';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRosTransport,
  defaultMappings,
  envelope,
  loadRclnodejs,
  type RosTransport,
  remap,
  rosTransport,
  toRos,
} from '../src/index.js';
import { FakeGraph, fakeRcl } from '../src/testing/index.js';

const next = headerSequence('operator', () => Date.now());
const stamp = { sec: 1_700_000_000, nanosec: 500_000_000 };
const rosHeader = (frame_id = 'odom') => ({ stamp, frame_id });
const f64 = (...v: number[]) => Float64Array.from(v);

// describeTransport across the (double's) ROS graph: one app's transport publishes, another's
// subscribes, the messages carried whole (`envelope`).
describeTransport(
  'ROS 2 (rclnodejs test double), envelope mapping',
  async () => {
    const graph = new FakeGraph();
    const publisher = await createRosTransport({
      rcl: fakeRcl(graph),
      nodeName: 'operator_app',
      mappings: [envelope(Topics.twist, 'to-ros'), envelope(Topics.battery, 'to-ros')],
    });
    const subscriber = await createRosTransport({
      rcl: fakeRcl(graph),
      nodeName: 'robot_app',
      mappings: [envelope(Topics.twist, 'from-ros'), envelope(Topics.battery, 'from-ros')],
    });
    return {
      publisher,
      subscriber,
      close: async () => {
        await publisher.close();
        await subscriber.close();
      },
    };
  },
  { capabilities: { reconnect: false, remote: true } },
);

const open: RosTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});
async function transport(options: Parameters<typeof createRosTransport>[0] = {}) {
  const rcl = options.rcl ?? fakeRcl();
  const t = await createRosTransport({ graphPollMs: 20, ...options, rcl });
  open.push(t);
  return { t, rcl: rcl as ReturnType<typeof fakeRcl> };
}
const first = <T>(o: import('rxjs').Observable<T>) => firstValueFrom(o.pipe(timeout(2_000)));

describe('the default mapping', () => {
  it('sends /controller/twist to /cmd_vel as geometry_msgs/msg/Twist, or TwistStamped', async () => {
    for (const twistStamped of [false, true]) {
      const { t, rcl } = await transport({ mappings: defaultMappings({ twistStamped }) });
      const robot = rcl.node('robot');
      const got = new Promise<unknown>((resolve) =>
        robot.createSubscription(
          twistStamped ? 'geometry_msgs/msg/TwistStamped' : 'geometry_msgs/msg/Twist',
          '/cmd_vel',
          {},
          resolve,
        ),
      );
      const header = next();
      t.publish(Topics.twist, { header, linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.2 } });
      const twist = { linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.2 } };
      expect(await got).toEqual(
        twistStamped
          ? {
              header: {
                stamp: { sec: Math.floor(header.stamp / 1000), nanosec: expect.any(Number) },
                frame_id: 'base_link',
              },
              twist,
            }
          : twist,
      );
      robot.destroy();
      await t.close();
    }
  });

  it('sends /controller/joints as a one-point JointTrajectory', async () => {
    const { t, rcl } = await transport();
    const got = new Promise<unknown>((resolve) =>
      rcl
        .node('controller')
        .createSubscription(
          'trajectory_msgs/msg/JointTrajectory',
          '/joint_trajectory_controller/joint_trajectory',
          {},
          resolve,
        ),
    );
    t.publish(Topics.joints, { header: next(), name: ['shoulder', 'elbow'], position: [0.5, -1] });
    expect(await got).toMatchObject({
      joint_names: ['shoulder', 'elbow'],
      points: [{ positions: [0.5, -1], velocities: [], time_from_start: { sec: 0, nanosec: 100_000_000 } }],
    });
  });

  it('brings /odom, /joint_states, /imu, /battery_state and /diagnostics in as telemetry', async () => {
    const { t, rcl } = await transport();
    const robot = rcl.node('robot');
    const publish = (type: string, topic: string, message: object, qos?: InstanceType<typeof rcl.QoS>) =>
      robot.createPublisher(type, topic, qos ? { qos } : {}).publish(message as never);
    const pose = first(t.subscribe(Topics.pose));
    const joints = first(t.subscribe(Topics.jointState));
    const imu = first(t.subscribe(Topics.imu));
    const battery = first(t.subscribe(Topics.battery));
    const diagnostics = first(t.subscribe(Topics.diagnostics));
    publish('nav_msgs/msg/Odometry', '/odom', {
      header: rosHeader(),
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 1, y: 2, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        covariance: new Float64Array(36),
      },
      twist: {
        twist: { linear: { x: 0.3, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } },
        covariance: new Float64Array(36),
      },
    });
    publish('sensor_msgs/msg/JointState', '/joint_states', {
      header: rosHeader(''),
      name: ['a', 'b'],
      position: f64(0.1, 0.2),
      velocity: f64(),
      effort: f64(),
    });
    // Drivers publish IMUs best effort: the mapping subscribes with the sensor-data profile.
    publish(
      'sensor_msgs/msg/Imu',
      '/imu',
      {
        header: rosHeader('imu_link'),
        orientation: { x: 0, y: 0, z: 0, w: 1 },
        orientation_covariance: f64(0, 0, 0, 0, 0, 0, 0, 0, 0),
        angular_velocity: { x: 0, y: 0, z: 0.5 },
        angular_velocity_covariance: f64(0, 0, 0, 0, 0, 0, 0, 0, 0),
        linear_acceleration: { x: 0, y: 0, z: 9.81 },
        linear_acceleration_covariance: f64(0, 0, 0, 0, 0, 0, 0, 0, 0),
      },
      new rcl.QoS(1, 5, 2, 2),
    );
    publish('sensor_msgs/msg/BatteryState', '/battery_state', {
      header: rosHeader(''),
      voltage: 24.1,
      current: -1.5,
      charge: Number.NaN,
      capacity: Number.NaN,
      percentage: 0.8,
      power_supply_status: 2,
      present: true,
    });
    publish('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', {
      header: rosHeader(''),
      status: [
        {
          level: 1,
          name: 'motor',
          message: 'hot',
          hardware_id: 'm1',
          values: [{ key: 'temp', value: '71' }],
        },
      ],
    });
    expect(await pose).toMatchObject({
      header: { stamp: 1_700_000_000_500, sender: 'ros:/odom' },
      frame: 'odom',
      position: { x: 1, y: 2, z: 0 },
      linear: { x: 0.3, y: 0, z: 0 },
    });
    expect(await joints).toMatchObject({ name: ['a', 'b'], position: [0.1, 0.2] });
    expect((await joints).velocity).toBeUndefined(); // ROS leaves it empty: unmeasured
    expect(await imu).toMatchObject({ angularVelocity: { z: 0.5 }, linearAcceleration: { z: 9.81 } });
    expect(await battery).toMatchObject({ percentage: 0.8, voltage: 24.1, current: -1.5, charging: false });
    expect(await diagnostics).toMatchObject({
      status: [{ name: 'motor', level: 'warn', values: { temp: '71' } }],
    });
    expect(t.stats().find((s) => s.ros === '/odom')).toMatchObject({ forwarded: 1, rejected: 0 });
  });

  it('remaps ROS topic names', async () => {
    const { t, rcl } = await transport({
      mappings: remap(defaultMappings(), { '/telemetry/pose': '/wheel/odom' }),
    });
    expect(t.stats().map((s) => s.ros)).toContain('/wheel/odom');
    expect(rcl.graph.subscriberCount('/wheel/odom')).toBe(1);
  });
});

describe('bad input at the ROS boundary', () => {
  it('an unknown message type fails at setup, naming the topic and the type', async () => {
    const mappings = remap(defaultMappings(), {});
    const bad = { ...mappings[2]!, type: 'sensor_msgs/msg/JointStates' };
    const error = await createRosTransport({ rcl: fakeRcl(), mappings: [bad] }).catch((e: unknown) => e);
    expect(isTelekitError(error)).toBe(true);
    expect((error as Error).message).toContain('/telemetry/joint_state ↔ /joint_states');
    expect((error as Error).message).toContain('sensor_msgs/msg/JointStates');
    const malformed = await createRosTransport({
      rcl: fakeRcl(),
      mappings: [{ ...bad, type: 'JointState' }],
    }).catch((e: unknown) => e);
    expect((malformed as Error).message).toMatch(/type JointState is not a ROS interface name/);
  });

  it('a field of the wrong type is refused naming the topic and the field; the next good message goes through', async () => {
    const { t, rcl } = await transport();
    const odom = rcl.node('robot').createPublisher('nav_msgs/msg/Odometry', '/odom');
    const good = {
      header: rosHeader(),
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 1, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        covariance: [],
      },
      twist: { twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
    };
    const refused = first(t.errors$);
    odom.publish({
      ...good,
      pose: { ...good.pose, pose: { ...good.pose.pose, position: { x: '1', y: 0, z: 0 } } },
    } as never);
    const error = await refused;
    expect(error).toMatchObject({ ros: '/odom', telekit: '/telemetry/pose', field: 'pose.pose.position.x' });
    expect(error.message).toContain('/odom (nav_msgs/msg/Odometry): field pose.pose.position.x');
    const pose = first(t.subscribe(Topics.pose));
    odom.publish(good as never);
    expect((await pose).position.x).toBe(1);
  });

  it('a value the Telekit schema refuses (an unknown battery charge) names the field', async () => {
    const { t, rcl } = await transport();
    const refused = first(t.errors$);
    rcl
      .node('bms')
      .createPublisher('sensor_msgs/msg/BatteryState', '/battery_state')
      .publish({
        header: rosHeader(''),
        voltage: 24,
        current: 0,
        charge: Number.NaN,
        capacity: Number.NaN,
        percentage: Number.NaN,
        power_supply_status: 0,
        present: true,
      } as never);
    const error = await refused;
    expect(error).toMatchObject({ ros: '/battery_state', field: 'percentage' });
  });

  it('a command the mapping cannot express is refused naming the ROS field', async () => {
    const { t } = await transport({
      mappings: [
        // A custom line whose conversion produces a wrong field type.
        toRos<Twist, object>({
          topic: Topics.twist,
          ros: '/cmd_vel',
          type: 'geometry_msgs/msg/Twist',
          toRos: () => ({ linear: { x: 'fast', y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }),
        }),
      ],
    });
    const refused = first(t.errors$);
    t.publish(Topics.twist, { header: next(), linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    expect(await refused).toMatchObject({ ros: '/cmd_vel', field: 'linear.x' });
  });
});

describe('the graph', () => {
  it('state$ says which publishers are missing, and comes back when they return; the app keeps running', async () => {
    const { t, rcl } = await transport({
      mappings: defaultMappings().filter((m) => m.ros === '/odom' || m.ros === '/cmd_vel'),
    });
    expect((await first(t.state$)).status).toBe('connecting');
    let robot = rcl.node('robot');
    robot.createPublisher('nav_msgs/msg/Odometry', '/odom');
    await first(t.state$.pipe(filter((s) => s.status === 'connected')));
    robot.destroy(); // the driver node vanishes
    const gone = await first(t.state$.pipe(filter((s) => s.status === 'reconnecting')));
    expect(gone.reason).toBe('no publisher on /odom');
    // Commands still flow meanwhile.
    t.publish(Topics.twist, {
      header: next(),
      linear: { x: 0.1, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
    robot = rcl.node('robot');
    robot.createPublisher('nav_msgs/msg/Odometry', '/odom');
    await first(t.state$.pipe(filter((s) => s.status === 'connected')));
    const graph = await first(t.graph$);
    expect(graph.find((g) => g.ros === '/odom')).toMatchObject({ publishers: 1, direction: 'from-ros' });
  });
});

describe('services', () => {
  it('serves and calls a ROS service; a missing one is an error naming it', async () => {
    const graph = new FakeGraph();
    const { t: server } = await transport({ rcl: fakeRcl(graph), mappings: [] });
    const { t: client } = await transport({ rcl: fakeRcl(graph), mappings: [] });
    const stop = server.serve<object, { success: boolean; message: string }>(
      '/robot/home',
      'std_srvs/srv/Trigger',
      async () => ({
        success: true,
        message: 'homed',
      }),
    );
    expect(await client.call('/robot/home', 'std_srvs/srv/Trigger', {})).toEqual({
      success: true,
      message: 'homed',
    });
    stop();
    const error = await client
      .call('/robot/home', 'std_srvs/srv/Trigger', {}, { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'service /robot/home (std_srvs/srv/Trigger) is not available [service:/robot/home][ms:100]',
    );
  });
});

describe('without ROS 2', () => {
  it('the plugin fails at setup saying what to install and source', async () => {
    const error = await loadRclnodejs({}).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /ROS 2 is not sourced .*source \/opt\/ros\/<distro>\/setup\.bash.*npm install rclnodejs/,
    );
    if (process.env.ROS_DISTRO) return; // a ROS machine: the plugin would start
    const app = createApp({ plugins: [rosTransport()] });
    await expect(app.start()).rejects.toThrow(/ROS 2 is not sourced/);
  });

  it('one rclnodejs context for several transports: initialised once, shut down by the last', async () => {
    const rcl = fakeRcl();
    const a = await createRosTransport({ rcl, nodeName: 'a', mappings: [] });
    const b = await createRosTransport({ rcl, nodeName: 'b', mappings: [] });
    expect(rcl.isShutdown()).toBe(false);
    await a.close();
    expect(rcl.isShutdown()).toBe(false);
    await b.close();
    expect(rcl.isShutdown()).toBe(true);
  });
});
