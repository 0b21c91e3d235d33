"""Starts Telekit's ROS robot example next to a robot: `ros2 launch telekit_ros_robot.launch.py`.

Arguments (`name:=value`): port, host, camera_topic, camera_size, camera_fps, compressed,
twist_stamped, odom_topic, cmd_vel_topic, controller, cmd_vel_timeout, telekit_dir (the repository;
default: two levels above this file). The app runs as a process of this launch, in the same ROS
environment (ROS_DOMAIN_ID, RMW), and stops with it.

Defence in depth: Telekit's gateway sends a zero twist when the operator goes quiet, but a robot must
not depend on the process that commands it staying alive. This launch also sets the base
controller's own command timeout (ros2_control's diff_drive_controller `cmd_vel_timeout`, seconds):
with no fresh `cmd_vel` for that long the controller stops the wheels by itself, whatever happened
to Telekit. The controller reads it when it is configured, so put the same value in its YAML too
(`cmd_vel_timeout: 0.25`); `controller:=` (empty) skips this step.
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PythonExpression

HERE = os.path.dirname(os.path.abspath(__file__))


def generate_launch_description():
    args = {
        "telekit_dir": os.path.abspath(os.path.join(HERE, "..", "..", "..")),
        "port": "8080",
        "host": "0.0.0.0",
        "camera_topic": "/camera/image_raw",
        "camera_size": "640x480",
        "camera_fps": "30",
        "compressed": "false",
        "twist_stamped": "false",
        "odom_topic": "/odom",
        "cmd_vel_topic": "/cmd_vel",
        "controller": "diff_drive_controller",
        "cmd_vel_timeout": "0.25",
    }
    declared = [DeclareLaunchArgument(name, default_value=value) for name, value in args.items()]
    c = {name: LaunchConfiguration(name) for name in args}
    flag = lambda name, text: PythonExpression(["'", text, "' if '", c[name], "' == 'true' else ''"])  # noqa: E731
    app = ExecuteProcess(
        cmd=[
            "pnpm", "--dir", c["telekit_dir"], "--filter", "@telekit/example-ros-robot", "start", "--",
            "--port", c["port"], "--host", c["host"],
            "--camera-topic", c["camera_topic"], "--camera-size", c["camera_size"], "--camera-fps", c["camera_fps"],
            "--remap", ["/telemetry/pose=", c["odom_topic"]],
            "--remap", ["/controller/twist=", c["cmd_vel_topic"]],
            flag("compressed", "--compressed"),
            flag("twist_stamped", "--twist-stamped"),
        ],
        output="screen",
        emulate_tty=True,
        sigterm_timeout="5",
    )
    # The robot-side deadman: the controller stops by itself when commands stop coming.
    timeout = ExecuteProcess(
        cmd=["ros2", "param", "set", ["/", c["controller"]], "cmd_vel_timeout", c["cmd_vel_timeout"]],
        output="screen",
        condition=IfCondition(PythonExpression(["'", c["controller"], "' != ''"])),
    )
    return LaunchDescription([*declared, timeout, app])
