"""The MuJoCo backend: CPU physics, offscreen rendering through OSMesa (or EGL where it works) on a
thread of its own (`mujoco_renderer.py`)."""

from __future__ import annotations

import copy
import os
from concurrent.futures import Future
from typing import Any

import numpy as np

from . import console, poses
from .backend import Motion, PreparedAction, Progress, RenderOptions, joint_targets, no_progress, vector
from .errors import SimError
from .scene_description import describe_scene
from .scene_model import BUNDLED, Drive, compile_model, read_drive, scene_source

os.environ.setdefault("MUJOCO_GL", "osmesa")

import mujoco  # noqa: E402  (MUJOCO_GL must be set first)

from .mujoco_renderer import GlRenderer  # noqa: E402

__all__ = ["BUNDLED", "MujocoBackend"]


def _warning(message: str) -> None:
    # MuJoCo's own handler appends to MUJOCO_LOG.TXT in the working directory; a warning (an
    # unstable simulation, say) belongs in the sidecar's log, which the plugin prints under its name.
    print(f"warn mujoco: {message}", file=console.err(), flush=True)


mujoco.set_mju_user_warning(_warning)


class MujocoBackend:
    name = "mujoco"
    engine = f"mujoco {mujoco.__version__}"
    capabilities = {"base": True, "joints": True, "camera": True, "snapshot": True}
    load_in_thread = True
    renders_on_physics_thread = False

    def __init__(self) -> None:
        self.model = None
        self.data = None
        self.scene = None
        self._wheels = None
        # Rendering (the slow part: ~10–30 ms a frame on a CPU) happens on a thread of its own, which
        # owns the GL context: the sidecar's loop keeps serving commands, pings and the deadman.
        self._gl = GlRenderer()
        self._closed = False

    # ------------------------------------------------------------------ scene
    def load(self, scene: dict, progress: Progress = no_progress) -> dict:
        """Compiles the scene and checks what it declares; only then does it replace the running one."""
        source = scene_source(scene)
        progress("scene", f"compiling {source.label} with MuJoCo")
        model = compile_model(source)
        drive = read_drive(model, source.label)
        data = mujoco.MjData(model)
        wheels = None if drive is None else self._wheels_of(model, drive)
        mujoco.mj_forward(model, data)
        # Everything checked: the new scene replaces the running one in one go.
        self.model, self.data, self.scene, self._wheels = model, data, source.id, wheels
        return self.describe()

    @staticmethod
    def _wheels_of(model: Any, drive: Drive) -> dict[str, Any]:
        actuator = lambda name: mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, name)  # noqa: E731
        return {
            "left": actuator(drive.left),
            "right": actuator(drive.right),
            "radius": drive.radius,
            "separation": drive.separation,
            "base": drive.base,
            "drive": drive,
        }

    def _name(self, kind, i: int) -> str:
        return mujoco.mj_id2name(self.model, kind, i) or f"{kind.name.lower()}_{i}"

    def describe(self) -> dict:
        m = self.model
        joints = [self._name(mujoco.mjtObj.mjOBJ_JOINT, j) for j in self._named_joints()]
        return {
            "id": self.scene,
            "timestep": float(m.opt.timestep),
            "bodies": [self._name(mujoco.mjtObj.mjOBJ_BODY, b) for b in range(1, m.nbody)],
            "joints": joints,
            "actuators": [self._name(mujoco.mjtObj.mjOBJ_ACTUATOR, a) for a in range(m.nu)],
            "cameras": [self._name(mujoco.mjtObj.mjOBJ_CAMERA, c) for c in range(m.ncam)],
            "hasBase": self._wheels is not None,
            "engine": self.engine,
        }

    def describe_scene(self) -> dict:
        """The scene's look (core's `SimScene` without the header), bodies named as `state` names them."""
        self.require_scene()
        return describe_scene(self.model, self.scene, lambda b: self._name(mujoco.mjtObj.mjOBJ_BODY, b))

    def _named_joints(self):
        m = self.model
        free = int(mujoco.mjtJoint.mjJNT_FREE)
        ball = int(mujoco.mjtJoint.mjJNT_BALL)
        return [j for j in range(m.njnt) if int(m.jnt_type[j]) not in (free, ball) and not self._is_wheel_joint(j)]

    def _is_wheel_joint(self, j: int) -> bool:
        w = self._wheels
        return w is not None and any(self.model.actuator_trnid[w[key], 0] == j for key in ("left", "right"))

    # ------------------------------------------------------------------ stepping
    def reset(self) -> None:
        self.require_scene()
        mujoco.mj_resetData(self.model, self.data)
        mujoco.mj_forward(self.model, self.data)

    def step(self, n: int) -> None:
        self.require_scene()
        for _ in range(n):
            mujoco.mj_step(self.model, self.data)

    @property
    def time(self) -> float:
        return float(self.data.time) if self.data is not None else 0.0

    @property
    def timestep(self) -> float:
        return float(self.model.opt.timestep)

    # ------------------------------------------------------------------ actions
    def prepare(self, action: dict[str, Any]) -> PreparedAction:
        """Checks an action against the scene; applying it later only writes actuator targets."""
        self.require_scene()
        m, d = self.model, self.data
        kind = action.get("kind")
        if kind == "twist":
            if self._wheels is None:
                raise SimError("E_SIM_NO_BASE", f"scene {self.scene} has no base that a twist drives")
            w = self._wheels
            v = vector(action, "linear")[0]
            wz = vector(action, "angular")[2]
            left, right = w["left"], w["right"]
            speeds = w["drive"].wheel_speeds(v, wz)

            def drive() -> None:
                d.ctrl[left], d.ctrl[right] = speeds

            return PreparedAction("twist", frozenset((left, right)), drive)
        if kind == "joints":
            names, targets = joint_targets(action)
            values: dict[int, float] = {}
            for i, name in enumerate(names):
                actuator = self._actuator_for_joint(name)
                # Several lists for one joint: the last (velocity, then effort) is what the actuator gets.
                for field_values in targets.values():
                    values[actuator] = field_values[i]

            def move() -> None:
                for a, value in values.items():
                    d.ctrl[a] = value

            return PreparedAction("joints", frozenset(values), move)
        if kind == "freeze":
            return PreparedAction("freeze", frozenset(range(m.nu)), self._freeze)
        raise SimError("E_VALIDATION", f"unknown action kind {kind!r}: expected twist, joints or freeze", field="kind")

    def _actuator_for_joint(self, name: str) -> int:
        m = self.model
        a = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_ACTUATOR, name)
        if a >= 0:
            return a
        j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
        if j >= 0:
            for a in range(m.nu):
                if int(m.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT) and m.actuator_trnid[a, 0] == j:
                    return a
        raise SimError(
            "E_UNKNOWN_JOINT",
            f"unknown joint {name}: scene {self.scene} has {', '.join(self.describe()['joints']) or 'no actuated joints'}",
            field=name,
        )

    def _is_position_servo(self, a: int) -> bool:
        m = self.model
        return (
            int(m.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT)
            and int(m.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_AFFINE)
            and m.actuator_gainprm[a, 0] != 0
            and m.actuator_biasprm[a, 1] != 0
        )

    def _freeze(self) -> None:
        m, d = self.model, self.data
        for a in range(m.nu):
            # Position servos hold where they are; everything else goes to zero.
            if self._is_position_servo(a):
                d.ctrl[a] = d.qpos[m.jnt_qposadr[m.actuator_trnid[a, 0]]]
            else:
                d.ctrl[a] = 0.0

    def stop_motion(self) -> None:
        if self.model is None:
            return
        for a in range(self.model.nu):
            if not self._is_position_servo(a):
                self.data.ctrl[a] = 0.0

    def moving(self) -> bool:
        if self.model is None:
            return False
        return any(self.data.ctrl[a] != 0.0 for a in range(self.model.nu) if not self._is_position_servo(a))

    def motion(self) -> Motion:
        if self.model is None:
            return Motion()
        m, d = self.model, self.data
        joint = max((abs(float(d.qvel[m.jnt_dofadr[j]])) for j in self._named_joints()), default=0.0)
        if self._wheels is None:
            return Motion(joint=joint)
        w = self._wheels
        # How fast the wheels drive the base (odometry: what a real robot's encoders report), and how
        # fast the base itself moves over the ground. After an abrupt stop the chassis rocks on its
        # casters for a few hundred ms while the wheels stand still.
        left, right = (float(d.qvel[m.jnt_dofadr[m.actuator_trnid[w[k], 0]]]) for k in ("left", "right"))
        b = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, w["base"])
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, b, vel, 0)  # [rot, lin], world frame
        return Motion(
            linear=abs(w["radius"] * (left + right) / 2),
            angular=abs(w["radius"] * (right - left) / w["separation"]),
            joint=joint,
            travel=float(np.hypot(vel[3], vel[4])),
            x=float(d.xpos[b][0]),
            y=float(d.xpos[b][1]),
        )

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        self.require_scene()
        m, d = self.model, self.data
        # mj_step leaves body poses at the start of its last step; report where the bodies are now
        # (what a snapshot of this moment holds, and what the browser simulator reports).
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        bodies = []
        for b in range(1, m.nbody):
            bodies.append(
                {
                    "name": self._name(mujoco.mjtObj.mjOBJ_BODY, b),
                    "position": d.xpos[b].tolist(),
                    "orientation": d.xquat[b].tolist(),
                }
            )
        names, positions, velocities = [], [], []
        for j in self._named_joints():
            names.append(self._name(mujoco.mjtObj.mjOBJ_JOINT, j))
            positions.append(float(d.qpos[m.jnt_qposadr[j]]))
            velocities.append(float(d.qvel[m.jnt_dofadr[j]]))
        out = {
            "scene": self.scene,
            "time": float(d.time),
            "bodies": bodies,
            "joints": {"name": names, "position": positions, "velocity": velocities},
            "contacts": int(d.ncon),
            "base": None,
            "imu": None,
        }
        if self._wheels is not None:
            b = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, self._wheels["base"])
            vel = np.zeros(6)
            # In the base's own frame ([rot, lin]): mjOBJ_XBODY, the body frame; mjOBJ_BODY would be
            # its inertial frame, whose axes are the principal axes of inertia (x and z swapped here).
            mujoco.mj_comVel(m, d)
            mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, b, vel, 1)
            out["base"] = {
                "position": d.xpos[b].tolist(),
                "orientation": d.xquat[b].tolist(),
                "linear": vel[3:].tolist(),
                "angular": vel[:3].tolist(),
            }
        imu = self._imu()
        if imu is not None:
            out["imu"] = imu
        return out

    def _imu(self):
        m, d = self.model, self.data
        found = {}
        for key, name in (
            ("orientation", "imu_orientation"),
            ("angularVelocity", "imu_gyro"),
            ("linearAcceleration", "imu_accel"),
        ):
            s = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, name)
            if s < 0:
                return None
            adr, dim = m.sensor_adr[s], m.sensor_dim[s]
            found[key] = d.sensordata[adr : adr + dim].tolist()
        return found

    # ------------------------------------------------------------------ snapshot
    def snapshot(self) -> dict:
        self.require_scene()
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        size = mujoco.mj_stateSize(self.model, spec)
        buffer = np.empty(size, dtype=np.float64)
        mujoco.mj_getState(self.model, self.data, buffer, spec)
        return {"scene": self.scene, "engine": self.engine, "time": float(self.data.time), "data": buffer.tobytes()}

    def restore(self, snapshot: dict) -> None:
        self.require_scene()
        if snapshot.get("scene") != self.scene:
            raise SimError(
                "E_SIM_SNAPSHOT", f"snapshot is from scene {snapshot.get('scene')}, this is {self.scene}", field="scene"
            )
        if snapshot.get("engine") != self.engine:
            raise SimError(
                "E_SIM_SNAPSHOT", f"snapshot is from {snapshot.get('engine')}, this is {self.engine}", field="engine"
            )
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        size = mujoco.mj_stateSize(self.model, spec)
        data = snapshot.get("data")
        if not isinstance(data, (bytes, bytearray)) or len(data) != size * 8:
            raise SimError("E_SIM_SNAPSHOT", f"snapshot data must be {size * 8} bytes", field="data")
        mujoco.mj_setState(self.model, self.data, np.frombuffer(data, dtype=np.float64), spec)
        mujoco.mj_forward(self.model, self.data)

    def poses(self) -> dict:
        self.require_scene()
        m, d = self.model, self.data
        # Where the bodies are and how fast they move now (mj_step leaves both at the start of its last step).
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        mujoco.mj_comVel(m, d)
        vel = np.zeros(6)
        bodies = []
        for b in range(1, m.nbody):
            # At the body's frame origin, along the world axes: [angular, linear].
            mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, b, vel, 0)
            bodies.append(poses.body(self._name(mujoco.mjtObj.mjOBJ_BODY, b), d.xpos[b], d.xquat[b], vel[3:], vel[:3]))
        hinge_or_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        joints = [
            {
                "name": self._name(mujoco.mjtObj.mjOBJ_JOINT, j),
                "position": float(d.qpos[m.jnt_qposadr[j]]),
                "velocity": float(d.qvel[m.jnt_dofadr[j]]),
            }
            for j in range(m.njnt)
            if int(m.jnt_type[j]) in hinge_or_slide
        ]
        return {"scene": self.scene, "engine": self.engine, "time": float(d.time), "data": poses.encode(bodies, joints)}

    # ------------------------------------------------------------------ camera
    def render(
        self, camera: str | None, width: int, height: int, options: RenderOptions | None = None
    ) -> Future[np.ndarray]:
        """Renders the scene as it is now, on the GL thread: the picture on the future.

        The state is copied here (microseconds), so the simulation may step on meanwhile.
        """
        self.require_scene()
        m = self.model
        self._check_size(width, height)
        data = copy.copy(self.data)
        return self._gl.submit(m, data, camera, width, height, options or RenderOptions())

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        self.require_scene()
        m = self.model
        self._check_size(width, height)
        if camera and mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            names = ", ".join(self.describe()["cameras"]) or "none"
            raise SimError(
                "E_SIM_CAMERA", f"no camera {camera} in scene {self.scene} (it has: {names})", field="camera"
            )

    def _check_size(self, width: int, height: int) -> None:
        m = self.model
        if width > m.vis.global_.offwidth or height > m.vis.global_.offheight:
            raise SimError(
                "E_SIM_CAMERA",
                f"camera {width}x{height} exceeds the scene's offscreen buffer {m.vis.global_.offwidth}x{m.vis.global_.offheight}",
            )

    def render_threads(self) -> frozenset[int]:
        return self._gl.threads()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._gl.close()

    def require_scene(self) -> None:
        if self.model is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")
