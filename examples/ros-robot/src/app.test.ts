import { CdrWriter } from '@foxglove/cdr';
import { silentLogger, Topics } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { fakeRcl } from '@telekit/transport-ros/testing';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RosRobot, startRosRobot } from './app.js';

// The example against the rclnodejs test double (ROS 2 is not installed here): a "robot" of ROS
// nodes on the double's graph — a base driver listening on /cmd_vel and publishing /odom, a camera
// publishing sensor_msgs/Image — and the real gateway, encoder and SFU.
describe('ros-robot', () => {
  const rcl = fakeRcl();
  let robot: RosRobot;
  let timers: NodeJS.Timeout[] = [];
  const driver = rcl.node('base_driver');
  const received: { linear: { x: number } }[] = [];

  beforeAll(async () => {
    driver.createSubscription('geometry_msgs/msg/Twist', '/cmd_vel', {}, (m) => received.push(m as never));
    const odom = driver.createPublisher('nav_msgs/msg/Odometry', '/odom');
    const camera = rcl.node('camera').createPublisher('sensor_msgs/msg/Image', '/camera/image_raw');
    let n = 0;
    timers = [
      setInterval(() => {
        odom.publish({
          header: { stamp: { sec: Math.floor(Date.now() / 1000), nanosec: 0 }, frame_id: 'odom' },
          child_frame_id: 'base_link',
          pose: {
            pose: { position: { x: n / 100, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
            covariance: [],
          },
          twist: { twist: { linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
        } as never);
      }, 50),
      setInterval(() => {
        const w = new CdrWriter();
        w.int32(0)
          .uint32(0)
          .string('camera')
          .uint32(48)
          .uint32(64)
          .string('rgb8')
          .uint8(0)
          .uint32(64 * 3);
        w.uint8Array(new Uint8Array(64 * 48 * 3).fill(n++ % 256), true);
        camera.publish(w.data as never);
      }, 33),
    ];
    robot = await startRosRobot({
      port: 0,
      rcl,
      camera: { topic: '/camera/image_raw', width: 64, height: 48, fps: 30 },
      auth: false,
      logger: silentLogger,
    });
  }, 60_000);

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await robot?.close();
  });

  it('an operator drives the ROS base and sees its odometry', async () => {
    const client = gatewayClient({ url: robot.gateway.url });
    try {
      await client.connect();
      const pose = await firstValueFrom(client.subscribe(Topics.pose).pipe(timeout(10_000)));
      expect(pose.linear?.x).toBe(0.2);
      await client.requestControl();
      let seq = 0;
      const drive = setInterval(
        () =>
          client.publish(Topics.twist, {
            header: { seq: seq++, stamp: Date.now(), sender: 'operator' },
            linear: { x: 0.4, y: 0, z: 0 },
            angular: { x: 0, y: 0, z: 0 },
          }),
        50,
      );
      await expect.poll(() => received.some((m) => m.linear.x === 0.4), { timeout: 5_000 }).toBe(true);
      clearInterval(drive);
      // The gateway's deadman sends one zero when commands stop.
      await expect.poll(() => received.at(-1)?.linear.x, { timeout: 5_000 }).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('video from the ROS camera topic reaches the encoder', async () => {
    const client = gatewayClient({ url: robot.gateway.url });
    try {
      await client.connect();
      const streams = await client.request<{ streams: { id: string }[] }>('/media/streams', {});
      expect(streams.streams.map((s) => s.id)).toEqual(['camera']);
      // The camera's images are encoded: the stream is live at about the camera's rate.
      const camera = async () =>
        (
          (await robot.app.health()).plugins['@telekit/media-nvenc']?.data as Record<
            string,
            { state: string; fps: number }
          >
        )?.camera;
      await expect.poll(async () => (await camera())?.state, { timeout: 15_000 }).toBe('live');
      await expect.poll(async () => (await camera())?.fps ?? 0, { timeout: 15_000 }).toBeGreaterThan(10);
    } finally {
      await client.close();
    }
  });

  it('without ROS 2 it says what to install and source', async () => {
    if (process.env.ROS_DISTRO) return;
    await expect(startRosRobot({ port: 0, camera: false, logger: silentLogger })).rejects.toThrow(
      /ROS 2 is not sourced .*source \/opt\/ros\/<distro>\/setup\.bash/,
    );
  });
});
