/**
 * The live suite: the rosbridge transport against a real `rosbridge_server` on a ROS 2 graph. It runs
 * where a ROS 2 is sourced (`ROS_DISTRO` set) and a rosbridge server answers at `ROSBRIDGE_URL`
 * (default `ws://127.0.0.1:9090`; start one with
 * `ros2 launch rosbridge_server rosbridge_websocket_launch.xml`); elsewhere it reports that it
 * skipped and why.
 */
import { describeTransport, missingRequirement, transportKitTopics } from '@telekit/testkit';
import { envelope } from '@telekit/transport-ros';
import { describe, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRosbridgeTransport } from '../src/index.js';

const url = process.env.ROSBRIDGE_URL ?? 'ws://127.0.0.1:9090';
const reachable = process.env.ROS_DISTRO
  ? await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(url);
      ws.once('open', () => {
        ws.terminate();
        resolve(true);
      });
      ws.once('error', () => resolve(false));
    })
  : false;
const reason = missingRequirement([
  { ok: Boolean(process.env.ROS_DISTRO), need: 'a sourced ROS 2 (ROS_DISTRO is not set)' },
  {
    ok: !process.env.ROS_DISTRO || reachable,
    need: `a rosbridge_server at ${url} (ros2 launch rosbridge_server rosbridge_websocket_launch.xml, or set ROSBRIDGE_URL)`,
  },
]);

if (reason) {
  describe(`rosbridge live suite (skipped: ${reason})`, () => {
    it.skip(`describeTransport through a real rosbridge_server (skipped: ${reason})`, () => {});
  });
} else {
  // Per-run topic names, so runs on one graph do not meet.
  const ns = `/telekit_live_${process.pid}`;
  const mappings = transportKitTopics.map((t) =>
    envelope(t, t.lane === 'control' ? 'to-ros' : 'from-ros', `${ns}${t.name}`),
  );
  describeTransport(
    `rosbridge (roslib 2.1) through rosbridge_server at ${url}`,
    async () => {
      const options = { url, mappings, reconnect: { delayMs: 100, maxDelayMs: 1_000 } };
      const publisher = createRosbridgeTransport(options);
      const subscriber = createRosbridgeTransport(options);
      return {
        publisher,
        subscriber,
        async close() {
          await publisher.close();
          await subscriber.close();
        },
      };
    },
    { capabilities: { reconnect: false, remote: true }, timeoutMs: 5_000 },
  );
}
