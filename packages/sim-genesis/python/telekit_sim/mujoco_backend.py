"""The MuJoCo backend: CPU physics, offscreen rendering through OSMesa (or EGL where it works)."""

from __future__ import annotations

import copy
import os
import re
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources
from typing import Any

import numpy as np

from .backend import Motion, PreparedAction, RenderOptions, joint_targets, picture, vector
from .errors import SimError

os.environ.setdefault("MUJOCO_GL", "osmesa")

import mujoco  # noqa: E402  (MUJOCO_GL must be set first)


def _warning(message: str) -> None:
    # MuJoCo's own handler appends to MUJOCO_LOG.TXT in the working directory; a warning (an
    # unstable simulation, say) belongs in the sidecar's log, which the plugin prints under its name.
    print(f"warn mujoco: {message}", file=sys.stderr, flush=True)


mujoco.set_mju_user_warning(_warning)

BUNDLED = {"diff-drive": "diff_drive.xml", "arm": "arm.xml"}


def _scene_path(name: str) -> str:
    file = BUNDLED.get(name)
    if file is None:
        raise SimError("E_SIM_SCENE", f"unknown scene {name}; bundled scenes: {', '.join(sorted(BUNDLED))}", file=name)
    return str(resources.files("telekit_sim") / "scenes" / file)


def _menagerie(source: str):
    """`menagerie:<robot>[:<entry>]`: a robot from MuJoCo Menagerie (the mujoco-menagerie package,
    which fetches the robot's files on first use and caches them)."""
    _, robot, *entry = source.split(":")
    try:
        import mujoco_menagerie as mm
    except ImportError as error:
        raise SimError("E_SIM_SCENE", "mujoco-menagerie is not installed: pip install mujoco-menagerie", file=source) from error
    try:
        return mm.get(robot).model(entry[0]) if entry else mm.load(robot)
    except Exception as error:  # noqa: BLE001 - unknown robot, no network, …
        raise SimError("E_SIM_SCENE", f"cannot load {source}: {error}", file=source) from error


def _xml_error(error: Exception, file: str) -> SimError:
    text = str(error).strip()
    match = re.search(r"line (\d+)", text)
    first = text.splitlines()[0] if text else "could not load"
    return SimError("E_SIM_SCENE", f"cannot load {file}: {first}", file=file, line=int(match.group(1)) if match else None)


class MujocoBackend:
    name = "mujoco"
    engine = f"mujoco {mujoco.__version__}"
    capabilities = {"base": True, "joints": True, "camera": True, "snapshot": True}
    load_in_thread = True

    def __init__(self) -> None:
        self.model = None
        self.data = None
        self.scene = None
        self._wheels = None
        # Rendering (the slow part: ~10–30 ms a frame on a CPU) happens on a thread of its own, which
        # owns the GL context: the sidecar's loop keeps serving commands, pings and the deadman.
        self._gl = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telekit-gl")
        self._renderer: mujoco.Renderer | None = None
        self._renderer_key: tuple[Any, ...] | None = None
        self._render_tids: frozenset[int] = frozenset()
        self._closed = False

    # ------------------------------------------------------------------ scene
    def load(self, scene: dict) -> dict:
        scene_id = str(scene.get("id") or "scene")
        try:
            if scene.get("mjcf") is not None:
                source = f"{scene_id} (inline MJCF)"
                model = mujoco.MjModel.from_xml_string(str(scene["mjcf"]))
            elif str(scene.get("path") or "").startswith("menagerie:"):
                source = str(scene["path"])
                model = _menagerie(source)
            else:
                path = str(scene.get("path") or scene_id)
                source = path
                if not os.path.isabs(path) and not os.path.exists(path):
                    path = _scene_path(path)
                model = mujoco.MjModel.from_xml_path(path)
        except SimError:
            raise
        except Exception as error:  # noqa: BLE001 - MuJoCo raises ValueError with the parser's message
            raise _xml_error(error, source) from error
        self.model = model
        self.data = mujoco.MjData(model)
        self.scene = scene_id
        self._wheels = self._find_wheels()
        mujoco.mj_forward(self.model, self.data)
        return self.describe()

    def _find_wheels(self):
        m = self.model
        names = {mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_TEXT, i): self._text_data(i) for i in range(m.ntext)}
        if "telekit_wheels" not in names:
            return None
        left, right = names["telekit_wheels"].split()
        radius = float(self._numeric("telekit_wheel_radius"))
        separation = float(self._numeric("telekit_wheel_separation"))
        base = names.get("telekit_base", "base")
        return {"left": self._actuator(left), "right": self._actuator(right), "radius": radius, "separation": separation, "base": base}

    def _text_data(self, i: int) -> str:
        m = self.model
        start = m.text_adr[i]
        size = m.text_size[i]
        return bytes(m.text_data[start : start + size - 1]).decode()

    def _numeric(self, name: str) -> float:
        i = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_NUMERIC, name)
        if i < 0:
            raise SimError("E_SIM_SCENE", f"scene declares wheels but no {name}", file=self.scene)
        return self.model.numeric_data[self.model.numeric_adr[i]]

    def _actuator(self, name: str) -> int:
        i = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_ACTUATOR, name)
        if i < 0:
            raise SimError("E_SIM_SCENE", f"scene names wheel actuator {name}, which it does not have", file=self.scene)
        return i

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
        }

    def _named_joints(self):
        m = self.model
        free = int(mujoco.mjtJoint.mjJNT_FREE)
        ball = int(mujoco.mjtJoint.mjJNT_BALL)
        return [j for j in range(m.njnt) if int(m.jnt_type[j]) not in (free, ball) and not self._is_wheel_joint(j)]

    def _is_wheel_joint(self, j: int) -> bool:
        if self._wheels is None:
            return False
        m = self.model
        for key in ("left", "right"):
            if m.actuator_trnid[self._wheels[key], 0] == j:
                return True
        return False

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
            half = w["separation"] / 2
            left, right = w["left"], w["right"]
            speeds = ((v - wz * half) / w["radius"], (v + wz * half) / w["radius"])

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
        raise SimError("E_UNKNOWN_JOINT", f"unknown joint {name}: scene {self.scene} has {', '.join(self.describe()['joints']) or 'no actuated joints'}", field=name)

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
        bodies = []
        for b in range(1, m.nbody):
            bodies.append({"name": self._name(mujoco.mjtObj.mjOBJ_BODY, b), "position": d.xpos[b].tolist(), "orientation": d.xquat[b].tolist()})
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
            mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_BODY, b, vel, 1)  # local frame: [rot, lin]
            out["base"] = {"position": d.xpos[b].tolist(), "orientation": d.xquat[b].tolist(), "linear": vel[3:].tolist(), "angular": vel[:3].tolist()}
        imu = self._imu()
        if imu is not None:
            out["imu"] = imu
        return out

    def _imu(self):
        m, d = self.model, self.data
        found = {}
        for key, name in (("orientation", "imu_orientation"), ("angularVelocity", "imu_gyro"), ("linearAcceleration", "imu_accel")):
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
            raise SimError("E_SIM_SNAPSHOT", f"snapshot is from scene {snapshot.get('scene')}, this is {self.scene}", field="scene")
        if snapshot.get("engine") != self.engine:
            raise SimError("E_SIM_SNAPSHOT", f"snapshot is from {snapshot.get('engine')}, this is {self.engine}", field="engine")
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        size = mujoco.mj_stateSize(self.model, spec)
        data = snapshot.get("data")
        if not isinstance(data, (bytes, bytearray)) or len(data) != size * 8:
            raise SimError("E_SIM_SNAPSHOT", f"snapshot data must be {size * 8} bytes", field="data")
        mujoco.mj_setState(self.model, self.data, np.frombuffer(data, dtype=np.float64), spec)
        mujoco.mj_forward(self.model, self.data)

    # ------------------------------------------------------------------ camera
    def render(self, camera: str | None, width: int, height: int, options: RenderOptions | None = None) -> Future[np.ndarray]:
        """Renders the scene as it is now, on the GL thread: the picture on the future.

        The state is copied here (microseconds), so the simulation may step on meanwhile.
        """
        self.require_scene()
        m = self.model
        if width > m.vis.global_.offwidth or height > m.vis.global_.offheight:
            raise SimError("E_SIM_CAMERA", f"camera {width}x{height} exceeds the scene's offscreen buffer {m.vis.global_.offwidth}x{m.vis.global_.offheight}")
        data = copy.copy(self.data)
        return self._gl.submit(self._render, m, data, camera, width, height, options or RenderOptions())

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        self.require_scene()
        m = self.model
        if width > m.vis.global_.offwidth or height > m.vis.global_.offheight:
            raise SimError("E_SIM_CAMERA", f"camera {width}x{height} exceeds the scene's offscreen buffer {m.vis.global_.offwidth}x{m.vis.global_.offheight}")
        if camera and mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            names = ", ".join(self.describe()["cameras"]) or "none"
            raise SimError("E_SIM_CAMERA", f"no camera {camera} in scene {self.scene} (it has: {names})", field="camera")

    def render_threads(self) -> frozenset[int]:
        return self._render_tids

    def _render(self, model: Any, data: Any, camera: str | None, width: int, height: int, options: RenderOptions) -> np.ndarray:
        # On the GL thread only: the renderer and its context live here.
        self._render_tids = frozenset({threading.get_native_id()})
        r = self._renderer
        key = (model, width, height, options.samples)
        if r is None or self._renderer_key != key:
            if r is not None:
                r.close()
            # Multisampling is fixed when the GL context's framebuffer is made. The model's visual
            # settings touch only rendering, never the physics that steps it meanwhile.
            model.vis.quality.offsamples = options.samples
            r = self._renderer = mujoco.Renderer(model, height, width)
            self._renderer_key = key
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = options.shadows
        r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = options.reflections
        r.update_scene(data, camera=camera if camera else -1)
        return picture(r.render(), options)

    def _close_renderer(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._gl.submit(self._close_renderer)
        self._gl.shutdown(wait=True)

    def require_scene(self) -> None:
        if self.model is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")

