import { Topic } from 'roslib';
import { afterEach, describe, expect, it } from 'vitest';
import { frames, startEndpoint, token } from './helpers.js';

describe('unmapped topics, relayed only where the allow-list says so', () => {
  let env: Awaited<ReturnType<typeof startEndpoint>> | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('a relayed topic goes from one roslib client through the gateway to another; others are refused', async () => {
    env = await startEndpoint({}, { relay: ['/chatter', '/ui/*'] });
    const talker = await env.ros(`?token=${await token('tom', 'operator')}`);
    const listener = await env.ros(`?token=${await token('lia', 'viewer')}`);
    const heard = new Promise<{ data: string }>((resolve) =>
      new Topic<{ data: string }>({
        ros: listener,
        name: '/chatter',
        messageType: 'std_msgs/msg/String',
      }).subscribe(resolve),
    );
    const chatter = new Topic({ ros: talker, name: 'chatter', messageType: 'std_msgs/msg/String' });
    // Published until the listener's subscription is in place.
    const timer = setInterval(() => chatter.publish({ data: 'hello' }), 20);
    expect(await heard.finally(() => clearInterval(timer))).toEqual({ data: 'hello' });

    const raw = await env.raw(`?token=${await token('tom', 'operator')}`);
    raw.send(JSON.stringify({ op: 'publish', id: 'x1', topic: '/secret', msg: { data: 'no' } }));
    expect(await frames(raw).next((m) => m.id === 'x1')).toMatchObject({
      code: 'E_ROSBRIDGE_UNMAPPED',
      field: 'topic',
    });

    const viewer = await env.raw(`?token=${await token('vic', 'viewer')}`);
    viewer.send(JSON.stringify({ op: 'publish', id: 'v1', topic: '/ui/buttons', msg: { data: 'press' } }));
    expect(await frames(viewer).next((m) => m.id === 'v1')).toMatchObject({
      code: 'E_FORBIDDEN',
      msg: 'publish: role viewer may not publish /ros/ui/buttons',
    });
  });
});
