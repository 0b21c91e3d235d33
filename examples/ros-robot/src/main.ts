/**
 * Drive a ROS 2 robot from a browser. `--help` for the flags; `launch/telekit_ros_robot.launch.py`
 * starts it from `ros2 launch`.
 */
import { parseArgs } from 'node:util';
import { consoleLogger } from '@telekit/core';
import { haltOnCrash } from '@telekit/core/node';
import { startRosRobot } from './app.js';

const help = `telekit ros-robot — drive a ROS 2 robot from a browser

usage: pnpm --filter @telekit/example-ros-robot start [-- options]   (in a shell with ROS 2 sourced)

  --camera-topic <t>   sensor_msgs/Image topic to stream (default /camera/image_raw); "none" for no video
  --compressed         the camera topic is sensor_msgs/CompressedImage (JPEG/PNG)
  --camera-size <WxH>  the camera's size (default 640x480)
  --camera-fps <n>     the camera's rate (default 30)
  --twist-stamped      send geometry_msgs/TwistStamped on /cmd_vel (ROS 2 Jazzy's diff_drive_controller)
  --remap <a=b>        a Telekit topic onto another ROS topic, e.g. /telemetry/pose=/wheel/odom (repeatable)
  --node-name <n>      the ROS node's name (default telekit)
  --port <n>           port (env TELEKIT_PORT; default 8080)
  --host <addr>        address (env TELEKIT_HOST; default 127.0.0.1; 0.0.0.0 for other machines)
  --no-auth            let anyone who reaches the port drive (env TELEKIT_AUTH=off)
  --help               this text
`;

const { values } = parseArgs({
  options: {
    'camera-topic': { type: 'string', default: '/camera/image_raw' },
    compressed: { type: 'boolean', default: false },
    'camera-size': { type: 'string', default: '640x480' },
    'camera-fps': { type: 'string', default: '30' },
    'twist-stamped': { type: 'boolean', default: false },
    remap: { type: 'string', multiple: true, default: [] },
    'node-name': { type: 'string', default: 'telekit' },
    port: { type: 'string', default: process.env.TELEKIT_PORT ?? '8080' },
    host: { type: 'string', default: process.env.TELEKIT_HOST ?? '127.0.0.1' },
    'no-auth': { type: 'boolean', default: process.env.TELEKIT_AUTH === 'off' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
  // `ros2 launch` appends --ros-args … (for ROS, not for us) and passes unset flags as empty strings.
  args: process.argv
    .slice(2, process.argv.includes('--ros-args') ? process.argv.indexOf('--ros-args') : undefined)
    .filter((a) => a !== ''),
});
if (values.help) {
  console.log(help);
  process.exit(0);
}
const fail = (message: string) => {
  console.error(`ros-robot: ${message}\n\n${help}`);
  process.exit(2);
};
const size = /^(\d+)x(\d+)$/.exec(values['camera-size']);
if (!size) fail(`--camera-size: expected WIDTHxHEIGHT such as 640x480, got ${values['camera-size']}`);
const fps = Number(values['camera-fps']);
if (!(fps > 0 && fps <= 120)) fail(`--camera-fps: expected 1–120, got ${values['camera-fps']}`);
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected 0–65535, got ${values.port}`);
const remaps: Record<string, string> = {};
for (const r of values.remap) {
  const [from, to] = r.split('=');
  if (!from?.startsWith('/') || !to?.startsWith('/'))
    fail(`--remap: expected /telekit/topic=/ros/topic, got ${r}`);
  remaps[from!] = to!;
}

try {
  const robot = await startRosRobot({
    port,
    host: values.host,
    nodeName: values['node-name'],
    mapping: { twistStamped: values['twist-stamped'] },
    remap: remaps,
    camera:
      values['camera-topic'] === 'none'
        ? false
        : {
            topic: values['camera-topic'],
            type: values.compressed ? 'sensor_msgs/msg/CompressedImage' : 'sensor_msgs/msg/Image',
            width: Number(size![1]),
            height: Number(size![2]),
            fps,
          },
    auth: !values['no-auth'],
    logger: consoleLogger({ level: 'info' }),
  });
  // A crash stops what moves before the process goes (its children then go with it).
  haltOnCrash(robot.app);
  const stop = async () => {
    await robot.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  console.log(`\n  operator: ${robot.operatorUrl}\n  viewer:   ${robot.viewerUrl}\n`);
} catch (error) {
  console.error(`ros-robot: ${(error as Error).message}`);
  process.exit(1);
}
