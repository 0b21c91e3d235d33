import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdrWriter } from '@foxglove/cdr';
import { silentLogger, Topics } from '@telekit/core';
import { gatewayClient } from '@telekit/gateway/client';
import { MediaDemandToken } from '@telekit/media-nvenc';
import { launchChromium } from '@telekit/testkit/browser';
import { fakeRcl } from '@telekit/transport-ros/testing';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RosRobot, startRosRobot } from './app.js';

// The example against the rclnodejs test double (ROS 2 is not installed here): a "robot" of ROS
// nodes on the double's graph — a base driver listening on /cmd_vel and publishing /odom, a camera
// publishing sensor_msgs/Image — and the real gateway, encoder and SFU.
const results = fileURLToPath(new URL('../../../test-results/', import.meta.url));

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
        // A moving colour gradient: red across, green down, blue in time.
        const pixels = new Uint8Array(64 * 48 * 3);
        for (let i = 0; i < 64 * 48; i++)
          pixels.set([(i % 64) * 4, Math.floor(i / 64) * 5, (n * 8) % 256], i * 3);
        n++;
        w.uint8Array(pixels, true);
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
    let cleanupRelease: (() => void) | undefined;
    const client = gatewayClient({ url: robot.gateway.url });
    try {
      await client.connect();
      const streams = await client.request<{ streams: { id: string }[] }>('/media/streams', {});
      expect(streams.streams.map((s) => s.id)).toEqual(['camera']);
      // Video runs while someone watches: this test holds the stream as a viewer would.
      const release = robot.app.resolve(MediaDemandToken).acquire('camera', 'test');
      cleanupRelease = release;
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
      cleanupRelease?.();
      await client.close();
    }
  });

  // Its waits have their own deadlines (30 s for video): the case's must be longer than their sum, or a
  // loaded machine fails it at vitest's default 5 s while the page is still starting.
  it('in Chromium: the page shows the ROS camera, and holding W drives the base', {
    timeout: 120_000,
  }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(robot.operatorUrl);
      // Video plays: frames decoded and shown by the camera viewer.
      const shown = () =>
        page.evaluate(
          () =>
            (document.querySelector('telekit-camera-viewer') as unknown as { stats: { frames: number } })
              .stats.frames,
        );
      await expect.poll(shown, { timeout: 30_000 }).toBeGreaterThan(10);
      // The camera's own picture (red grows to the right, green downwards), not a garbled one.
      const corners = await page.evaluate(() => {
        const video = document.querySelector('telekit-camera-viewer')!.shadowRoot!.querySelector('video')!;
        const canvas = Object.assign(document.createElement('canvas'), {
          width: video.videoWidth,
          height: video.videoHeight,
        });
        const g = canvas.getContext('2d')!;
        g.drawImage(video, 0, 0);
        const at = (x: number, y: number) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
        return { topLeft: at(3, 3), topRight: at(canvas.width - 4, 3), bottomLeft: at(3, canvas.height - 4) };
      });
      expect(corners.topLeft[0]).toBeLessThan(60);
      expect(corners.topRight[0]).toBeGreaterThan(180);
      expect(corners.topLeft[1]).toBeLessThan(60);
      expect(corners.bottomLeft[1]).toBeGreaterThan(180);
      await page.getByRole('button', { name: 'Request control' }).click();
      const before = received.length;
      await page.keyboard.down('w');
      await expect
        .poll(() => received.slice(before).some((m) => m.linear.x > 0.3), { timeout: 5_000 })
        .toBe(true);
      await page.keyboard.up('w');
      await expect.poll(() => received.at(-1)?.linear.x, { timeout: 5_000 }).toBe(0);
      mkdirSync(results, { recursive: true });
      await page.screenshot({ path: `${results}ros-robot.png` });
    } finally {
      await browser.close();
    }
  });

  it('without ROS 2 it says what to install and source', async () => {
    if (process.env.ROS_DISTRO) return;
    await expect(startRosRobot({ port: 0, camera: false, logger: silentLogger })).rejects.toThrow(
      /ROS 2 is not sourced .*source \/opt\/ros\/<distro>\/setup\.bash/,
    );
  });
});
