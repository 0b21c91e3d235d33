"""Reading a Genesis scene's state: the `state` the sidecar streams (bodies, joints, the base's
velocities in its own frame, the IMU), the robot's `Motion` the deadman and the trace look at, and
the engine-neutral pose snapshot (`poses.py`).

Each function reads Genesis's arrays: call them on the Genesis thread only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import poses
from .backend import Motion
from .genesis_scene import GenesisScene, rotation


def read(s: GenesisScene) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every link's position, orientation, linear and angular velocity; every dof's position and velocity."""
    e = s.entity
    as_numpy = lambda t: t.cpu().numpy().astype(np.float64)  # noqa: E731
    return (
        as_numpy(e.get_links_pos()),
        as_numpy(e.get_links_quat()),
        as_numpy(e.get_links_vel()),
        as_numpy(e.get_links_ang()),
        as_numpy(e.get_dofs_position()),
        as_numpy(e.get_dofs_velocity()),
    )


def state(s: GenesisScene) -> dict[str, Any]:
    pos, quat, vel, ang, q, qdot = read(s)
    out: dict[str, Any] = {
        "scene": s.id,
        "time": s.time,
        "bodies": [{"name": name, "position": pos[i].tolist(), "orientation": quat[i].tolist()} for i, name in s.links],
        "joints": {
            "name": [n for n, _, _ in s.joints],
            "position": [float(q[d]) for _, _, d in s.joints],
            "velocity": [float(qdot[d]) for _, _, d in s.joints],
        },
        "contacts": 0,
        "base": None,
        "imu": None,
    }
    base = s.base_link()
    if base is not None:
        # Velocities in the base's own frame, as MuJoCo's backend reports them.
        to_local = rotation(quat[base]).T
        out["base"] = {
            "position": pos[base].tolist(),
            "orientation": quat[base].tolist(),
            "linear": (to_local @ vel[base]).tolist(),
            "angular": (to_local @ ang[base]).tolist(),
        }
    if s.imu_link is not None:
        i = s.imu_link
        to_local = rotation(quat[i]).T
        acc = s.entity.get_links_acc().cpu().numpy().astype(np.float64)[i]
        # An accelerometer reads the specific force: acceleration less gravity, in its own frame.
        out["imu"] = {
            "orientation": quat[i].tolist(),
            "angularVelocity": (to_local @ ang[i]).tolist(),
            "linearAcceleration": (to_local @ (acc - s.gravity)).tolist(),
        }
    return out


def motion(s: GenesisScene) -> Motion:
    qvel = s.entity.get_dofs_velocity().cpu().numpy()
    joint = max((abs(float(qvel[d])) for _, _, d in s.joints), default=0.0)
    base = s.base_link()
    if s.drive is None or base is None:
        return Motion(joint=joint)
    left = float(qvel[s.dof[s.actuator_for(s.drive.left)]])
    right = float(qvel[s.dof[s.actuator_for(s.drive.right)]])
    linear, angular = s.drive.odometry(left, right)
    pos = s.entity.get_links_pos().cpu().numpy()[base]
    vel = s.entity.get_links_vel().cpu().numpy()[base]
    return Motion(
        linear=abs(linear),
        angular=abs(angular),
        joint=joint,
        travel=float(np.hypot(vel[0], vel[1])),
        x=float(pos[0]),
        y=float(pos[1]),
    )


def pose_snapshot(s: GenesisScene, engine: str) -> dict[str, Any]:
    """The pose snapshot (`poses.py`): every body's pose and velocity, every hinge and slide joint."""
    pos, quat, vel, ang, q, qdot = read(s)
    bodies = [poses.body(name, pos[i], quat[i], vel[i], ang[i]) for i, name in s.links]
    joints = [{"name": name, "position": float(q[d]), "velocity": float(qdot[d])} for name, _, d in s.all_joints]
    return {"scene": s.id, "engine": engine, "time": s.time, "data": poses.encode(bodies, joints)}
