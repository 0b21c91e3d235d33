/**
 * The live suite: the same transport against a real ROS 2 graph through rclnodejs. It runs wherever
 * a ROS 2 is sourced (`ROS_DISTRO` set) and rclnodejs is installed with its build step; elsewhere it
 * reports that it skipped and why. How to run it: the package README, "Live tests on a ROS 2 machine".
 */
import { Topics } from '@telekit/core';
import { describeMediaSource, describeTransport, missingRequirement } from '@telekit/testkit';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRosTransport,
  defaultMappings,
  envelope,
  loadRclnodejs,
  type RclModule,
  type RclNode,
  type RosTransport,
  rosImageSource,
} from '../src/index.js';

let rcl: RclModule | undefined;
let loadError = '';
if (process.env.ROS_DISTRO) {
  rcl = await loadRclnodejs().catch((error: Error) => {
    loadError = error.message;
    return undefined;
  });
}
const reason = missingRequirement([
  { ok: Boolean(process.env.ROS_DISTRO), need: 'a sourced ROS 2 (ROS_DISTRO is not set)' },
  { ok: !process.env.ROS_DISTRO || rcl !== undefined, need: `rclnodejs built for ROS 2 (${loadError})` },
]);

if (reason || !rcl) {
  describe(`transport-ros live suite (skipped: ${reason})`, () => {
    it.skip(`describeTransport, the default mapping, services and image topics on a real ROS 2 graph (skipped: ${reason})`, () => {});
  });
} else {
  const ros = rcl;
  const ns = `/telekit_live_${process.pid}`;

  describeTransport(
    `ROS 2 ${process.env.ROS_DISTRO} (rclnodejs), envelope mapping`,
    async () => {
      const publisher = await createRosTransport({
        rcl: ros,
        nodeName: 'kit_publisher',
        mappings: [
          envelope(Topics.twist, 'to-ros', `${ns}/twist`),
          envelope(Topics.battery, 'to-ros', `${ns}/battery`),
        ],
      });
      const subscriber = await createRosTransport({
        rcl: ros,
        nodeName: 'kit_subscriber',
        mappings: [
          envelope(Topics.twist, 'from-ros', `${ns}/twist`),
          envelope(Topics.battery, 'from-ros', `${ns}/battery`),
        ],
      });
      // DDS discovery takes a moment: wait until the subscriber sees the publisher.
      await firstValueFrom(
        subscriber.state$.pipe(
          filter((s) => s.status === 'connected'),
          timeout(10_000),
        ),
      );
      return {
        publisher,
        subscriber,
        close: async () => {
          await publisher.close();
          await subscriber.close();
        },
      };
    },
    { capabilities: { reconnect: false, remote: true }, timeoutMs: 5_000 },
  );

  describe('the default mapping against real ROS nodes', () => {
    let robot: RosTransport;
    let driver: RclNode;
    beforeAll(async () => {
      robot = await createRosTransport({
        rcl: ros,
        nodeName: 'telekit_live',
        mappings: defaultMappings().map((m) => ({ ...m, ros: `${ns}${m.ros}` })),
      });
      driver = new ros.Node('fake_driver', '');
      driver.spin();
    });
    afterAll(async () => {
      driver?.destroy();
      await robot?.close();
    });

    it('a twist reaches /cmd_vel as geometry_msgs/msg/Twist', async () => {
      const got = new Promise<unknown>((resolve) =>
        driver.createSubscription('geometry_msgs/msg/Twist', `${ns}/cmd_vel`, {}, resolve),
      );
      await new Promise((r) => setTimeout(r, 500)); // discovery
      robot.publish(Topics.twist, {
        header: { seq: 1, stamp: Date.now(), sender: 'live' },
        linear: { x: 0.3, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0.1 },
      });
      expect(await got).toMatchObject({ linear: { x: 0.3 }, angular: { z: 0.1 } });
    });

    it('/odom from a ROS node arrives as /telemetry/pose; the node vanishing shows on state$', async () => {
      const odom = driver.createPublisher('nav_msgs/msg/Odometry', `${ns}/odom`);
      const pose = firstValueFrom(robot.subscribe(Topics.pose).pipe(timeout(10_000)));
      const timer = setInterval(
        () =>
          odom.publish({
            header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'odom' },
            child_frame_id: 'base_link',
            pose: {
              pose: { position: { x: 2, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
              covariance: new Float64Array(36),
            },
            twist: {
              twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
              covariance: new Float64Array(36),
            },
          } as never),
        50,
      );
      try {
        expect((await pose).position.x).toBe(2);
      } finally {
        clearInterval(timer);
      }
    });
  });

  describe('services', () => {
    it('serves and calls std_srvs/srv/Trigger', async () => {
      const a = await createRosTransport({ rcl: ros, nodeName: 'svc_server', mappings: [] });
      const b = await createRosTransport({ rcl: ros, nodeName: 'svc_client', mappings: [] });
      try {
        a.serve(`${ns}/home`, 'std_srvs/srv/Trigger', () => ({ success: true, message: 'homed' }));
        expect(await b.call(`${ns}/home`, 'std_srvs/srv/Trigger', {})).toMatchObject({
          success: true,
          message: 'homed',
        });
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  it('measures image frame rates: read in place vs deserialized into JS objects (rclnodejs #916, #960)', async () => {
    const transport = await createRosTransport({ rcl: ros, nodeName: 'fps_viewer', mappings: [] });
    const camera = new ros.Node('fps_camera', '');
    camera.spin();
    const topic = `${ns}/fps_image`;
    const publisher = camera.createPublisher('sensor_msgs/msg/Image', topic);
    const image = {
      header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'camera' },
      height: 1080,
      width: 1920,
      encoding: 'rgb8',
      is_bigendian: 0,
      step: 1920 * 3,
      data: new Uint8Array(1920 * 1080 * 3),
    };
    let raw = 0;
    let objects = 0;
    const source = rosImageSource(transport, { topic, width: 1920, height: 1080, fps: 30 });
    const sub = source.frames$.subscribe(() => raw++);
    transport.node.createSubscription('sensor_msgs/msg/Image', topic, {}, () => objects++);
    await new Promise((r) => setTimeout(r, 1_000));
    raw = objects = 0;
    const timer = setInterval(() => publisher.publish(image as never), 1000 / 30);
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(timer);
    sub.unsubscribe();
    console.log(
      `1080p rgb8 at 30 fps for 5 s: read in place ${raw / 5} fps, deserialized ${objects / 5} fps`,
    );
    camera.destroy();
    await source.close();
    await transport.close();
    expect(raw / 5).toBeGreaterThan(25);
  });

  describeMediaSource(`ROS 2 image topic, 640×480 rgb8 at 30 fps`, async () => {
    const transport = await createRosTransport({ rcl: ros, nodeName: 'image_viewer', mappings: [] });
    const camera = new ros.Node('fake_camera', '');
    camera.spin();
    const publisher = camera.createPublisher('sensor_msgs/msg/Image', `${ns}/image_raw`);
    const data = new Uint8Array(640 * 480 * 3);
    let n = 0;
    const timer = setInterval(() => {
      data.fill(n++ % 256, 0, 640 * 3);
      publisher.publish({
        header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'camera' },
        height: 480,
        width: 640,
        encoding: 'rgb8',
        is_bigendian: 0,
        step: 640 * 3,
        data,
      } as never);
    }, 33);
    const source = rosImageSource(transport, { topic: `${ns}/image_raw`, width: 640, height: 480, fps: 30 });
    return {
      name: source.name,
      info: source.info,
      frames$: source.frames$,
      async close() {
        clearInterval(timer);
        camera.destroy();
        await source.close();
        await transport.close();
      },
    };
  });
}
