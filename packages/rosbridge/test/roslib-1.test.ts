import { Topics } from '@telekit/core';
import ROSLIB from 'roslib-1';
import { firstValueFrom, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startEndpoint, token } from './helpers.js';

// roslib 1.4.1, the version most existing UIs were written against (CommonJS; it sends the
// service type and uses `ws` in Node), unmodified.
describe('roslib 1.4.x against the endpoint', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  let ros: { close(): void; once(e: string, f: (x: unknown) => void): void } | undefined;
  afterEach(async () => {
    ros?.close();
    await env?.close();
    env = undefined;
  });

  const connect = async (role: 'viewer' | 'operator') => {
    const r = new ROSLIB.Ros!({ url: `${env!.base}?token=${await token('u', role)}` });
    ros = r;
    await new Promise<void>((resolve, reject) => {
      r.once('connection', () => resolve());
      r.once('error', (e: unknown) => reject(new Error(String(e))));
    });
    return r;
  };

  it('publishes /cmd_vel to the robot, gets /odom, and calls services by id', async () => {
    env = await startEndpoint();
    const r = await connect('operator');
    const got = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
    new ROSLIB.Topic!({ ros: r, name: '/cmd_vel', messageType: 'geometry_msgs/Twist' }).publish(
      new ROSLIB.Message!({ linear: { x: 0.6, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }),
    );
    expect((await got).linear.x).toBe(0.6);

    const odom = new ROSLIB.Topic!({ ros: r, name: '/odom', messageType: 'nav_msgs/Odometry' });
    const x = await new Promise<number>((resolve) => {
      const timer = setInterval(
        () =>
          env?.app.publish(Topics.pose, {
            header: { seq: 0, stamp: Date.now(), sender: 'robot' },
            frame: 'odom',
            position: { x: 4, y: 0, z: 0 },
            orientation: { x: 0, y: 0, z: 0, w: 1 },
          }),
        20,
      );
      odom.subscribe((m: { pose: { pose: { position: { x: number } } } }) => {
        clearInterval(timer);
        resolve(m.pose.pose.position.x);
      });
    });
    expect(x).toBe(4);

    const topics = await new Promise<{ topics: string[] }>((resolve, reject) => r.getTopics(resolve, reject));
    expect(topics.topics).toContain('/odom');
    const failed = await new Promise<unknown>((resolve) =>
      new ROSLIB.Service!({ ros: r, name: '/reset_world', serviceType: 'std_srvs/Empty' }).callService(
        new ROSLIB.ServiceRequest!({}),
        () => resolve('answered'),
        resolve,
      ),
    );
    expect(failed).toBe('no service /reset_world');
  });
});
