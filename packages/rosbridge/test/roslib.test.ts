import { Topics } from '@telekit/core';
import { Ros, Service, Topic } from 'roslib';
import { firstValueFrom, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startEndpoint, token } from './helpers.js';

const pose = (x: number) => ({
  header: { seq: x, stamp: Date.now(), sender: 'robot' },
  frame: 'odom',
  position: { x, y: 0, z: 0 },
  orientation: { x: 0, y: 0, z: 0, w: 1 },
  linear: { x: 0.1, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: 0 },
});
const cmd = (x: number) => ({ linear: { x, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.2 } });

describe('roslib 2.x against the endpoint', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('an operator publishing /cmd_vel drives /controller/twist through the gateway', async () => {
    env = await startEndpoint();
    const ros = await env.ros(`?token=${await token('olga', 'operator')}`);
    const got = firstValueFrom(env.app.subscribe(Topics.twist).pipe(take(1)));
    const cmdVel = new Topic({ ros, name: '/cmd_vel', messageType: 'geometry_msgs/Twist' });
    cmdVel.publish(cmd(0.4));
    const twist = await got;
    expect(twist.linear.x).toBe(0.4);
    expect(twist.angular.z).toBe(0.2);
    // The gateway vouches for the sender: the rosbridge client's session.
    expect(twist.header.sender).toMatch(/^operator-/);
    expect(env.gateway.clients().map((c) => c.role)).toEqual(['operator']);
  });

  it('subscriptions get telemetry as ROS messages; a leading slash is optional', async () => {
    env = await startEndpoint();
    const ros = await env.ros(`?token=${await token('vera', 'viewer')}`);
    const odom = new Topic<{ pose: { pose: { position: { x: number } } }; header: { frame_id: string } }>({
      ros,
      name: 'odom',
      messageType: 'nav_msgs/msg/Odometry',
    });
    const got = new Promise<{ pose: { pose: { position: { x: number } } }; header: { frame_id: string } }>(
      (resolve) => odom.subscribe(resolve),
    );
    // Published until the subscription is in place (subscribing is asynchronous).
    const timer = setInterval(() => env?.app.publish(Topics.pose, pose(2)), 20);
    const m = await got.finally(() => clearInterval(timer));
    expect(m.pose.pose.position.x).toBe(2);
    expect(m.header.frame_id).toBe('odom');
  });

  it('compression cbor: telemetry arrives as binary CBOR frames that roslib decodes', async () => {
    env = await startEndpoint();
    const ros = await env.ros(`?token=${await token('vera', 'viewer')}`);
    const odom = new Topic<{ pose: { pose: { position: { x: number } } } }>({
      ros,
      name: '/odom',
      messageType: 'nav_msgs/msg/Odometry',
      compression: 'cbor',
    });
    const got = new Promise<number>((resolve) => odom.subscribe((m) => resolve(m.pose.pose.position.x)));
    const timer = setInterval(() => env?.app.publish(Topics.pose, pose(3)), 20);
    expect(await got.finally(() => clearInterval(timer))).toBe(3);
  });

  it('throttle_rate paces a subscription, and queue_length keeps only the newest', async () => {
    env = await startEndpoint();
    const ros = await env.ros(`?token=${await token('vera', 'viewer')}`);
    const odom = new Topic<{ pose: { pose: { position: { x: number } } } }>({
      ros,
      name: '/odom',
      messageType: 'nav_msgs/msg/Odometry',
      throttle_rate: 60_000,
      queue_length: 1,
    });
    const xs: number[] = [];
    const first = new Promise<void>((resolve) =>
      odom.subscribe((m) => {
        xs.push(m.pose.pose.position.x);
        resolve();
      }),
    );
    const timer = setInterval(() => env?.app.publish(Topics.pose, pose(1)), 20);
    await first.finally(() => clearInterval(timer));
    // A burst after the first one: throttled to one a minute, nothing more arrives, and what waits
    // is only the newest.
    for (let i = 2; i <= 50; i++) env.app.publish(Topics.pose, pose(i));
    await new Promise<void>((resolve) =>
      new Service({ ros, name: '/rosapi/get_time', serviceType: '' }).callService({}, () => resolve()),
    );
    expect(xs).toEqual([1]);
    // The burst waited in a queue of one: all but the newest were dropped.
    expect(env.rosbridge.metrics.dropped).toBeGreaterThan(0);
  });

  it('rosapi answers by id; a failing call reaches the error callback', async () => {
    env = await startEndpoint({}, { params: { robot_name: '"rover"' } });
    const ros = await env.ros(`?token=${await token('olga', 'operator')}`);
    const topics = await new Promise<{ topics: string[]; types: string[] }>((resolve, reject) =>
      ros.getTopics(resolve, reject),
    );
    expect(topics.topics).toContain('/cmd_vel');
    expect(topics.types[topics.topics.indexOf('/odom')]).toBe('nav_msgs/msg/Odometry');
    const type = await new Promise<string>((resolve, reject) =>
      ros.getTopicType('/cmd_vel', resolve, reject),
    );
    expect(type).toBe('geometry_msgs/msg/Twist');
    const name = await new Promise<unknown>((resolve, reject) =>
      new Service({ ros, name: '/rosapi/get_param', serviceType: '' }).callService(
        { name: '/robot_name' },
        resolve,
        reject,
      ),
    );
    expect(name).toMatchObject({ value: '"rover"' });
    const failed = await new Promise<unknown>((resolve) =>
      new Service({ ros, name: '/no/such/service', serviceType: '' }).callService(
        {},
        () => resolve('answered'),
        resolve,
      ),
    );
    expect(failed).toBe('no service /no/such/service');
  });

  it('a service one roslib client advertises answers another client by id', async () => {
    env = await startEndpoint();
    const server = await env.ros(`?token=${await token('robot', 'operator')}`);
    const caller = await env.ros(`?token=${await token('olga', 'admin')}`);
    const offered = new Service<{ a: number; b: number }, { sum: number }>({
      ros: server,
      name: '/add_two_ints',
      serviceType: 'example_interfaces/srv/AddTwoInts',
    });
    await offered.advertise((req, res) => {
      res.sum = req.a + req.b;
      return true;
    });
    // The advertisement travels on the server's socket; a call may overtake it: ask until it answers.
    const call = () =>
      new Promise<unknown>((resolve) =>
        new Service({ ros: caller, name: '/add_two_ints', serviceType: '' }).callService(
          { a: 2, b: 3 },
          resolve,
          (e) => resolve({ error: e }),
        ),
      );
    let answer = await call();
    while ((answer as { error?: string }).error?.startsWith('no service')) answer = await call();
    expect(answer).toEqual({ sum: 5 });
  });

  it('a duplicate subscribe with the same id (roslib after a reconnect) keeps one subscription', async () => {
    env = await startEndpoint();
    const ros = await env.ros(`?token=${await token('vera', 'viewer')}`);
    const odom = new Topic<{ pose: { pose: { position: { x: number } } } }>({
      ros,
      name: '/odom',
      messageType: 'nav_msgs/msg/Odometry',
    });
    const xs: number[] = [];
    let seen: () => void = () => {};
    odom.subscribe((m) => {
      xs.push(m.pose.pose.position.x);
      seen();
    });
    // The same subscribe again, as roslib sends it when the app calls ros.connect() after a close.
    ros.callOnConnection({
      op: 'subscribe',
      id: odom.subscribeId ?? '',
      topic: '/odom',
      type: 'nav_msgs/msg/Odometry',
    });
    await new Promise<void>((resolve) => {
      seen = resolve;
      const timer = setInterval(() => env?.app.publish(Topics.pose, pose(7)), 20);
      seen = () => {
        clearInterval(timer);
        resolve();
      };
    });
    const n = xs.length;
    env.app.publish(Topics.pose, pose(8));
    await new Promise<void>((resolve) => {
      seen = resolve;
    });
    expect(xs.slice(n)).toEqual([8]);
  });

  it('after the server restarts, roslib reconnected by the app resubscribes and telemetry flows again', async () => {
    env = await startEndpoint();
    const port = Number(new URL(env.gateway.url).port);
    const url = `${env.base}?token=${await token('vera', 'viewer')}`;
    const ros = new Ros({});
    const opened = () => new Promise<void>((resolve) => ros.once('connection', () => resolve()));
    let open = opened();
    await ros.connect(url);
    await open;
    const odom = new Topic<{ pose: { pose: { position: { x: number } } } }>({
      ros,
      name: '/odom',
      messageType: 'nav_msgs/msg/Odometry',
    });
    let wanted = 1;
    let seen: () => void = () => {};
    odom.subscribe((m) => {
      if (m.pose.pose.position.x === wanted) seen();
    });
    const arrives = async (x: number) => {
      wanted = x;
      const got = new Promise<void>((resolve) => {
        seen = resolve;
      });
      const timer = setInterval(() => env?.app.publish(Topics.pose, pose(x)), 20);
      await got.finally(() => clearInterval(timer));
    };
    await arrives(1);
    // The server goes away and comes back on the same port; the app reconnects as roslib apps do.
    const closed = new Promise<void>((resolve) => ros.once('close', () => resolve()));
    await env.close();
    await closed;
    env = await startEndpoint({}, {}, port);
    open = opened();
    await ros.connect(url);
    await open;
    await arrives(2);
    ros.close();
  });
});
