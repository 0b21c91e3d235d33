"""The Genesis backend (genesis-world): GPU physics and rendering, or Genesis's CPU backend.

Installed only on request (`bash scripts/setup.sh --genesis`): it pulls PyTorch. Scenes are the
same MJCF files the MuJoCo backend loads; Genesis loads them with `gs.morphs.MJCF`.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future
from typing import Any

import numpy as np

from .backend import Motion, PreparedAction, RenderOptions, joint_targets, picture
from .errors import SimError
from .mujoco_backend import BUNDLED, _scene_path

try:  # pragma: no cover - exercised only where genesis-world is installed
    import genesis as gs
except ImportError as error:  # pragma: no cover
    gs = None
    _IMPORT_ERROR = error
else:
    _IMPORT_ERROR = None


def available() -> tuple[bool, str]:
    if gs is None:
        return False, f"genesis-world is not installed ({_IMPORT_ERROR})"
    return True, f"genesis {getattr(gs, '__version__', '?')}"


class GenesisBackend:  # pragma: no cover - exercised only where genesis-world is installed
    name = "genesis"
    capabilities = {"base": True, "joints": True, "camera": True, "snapshot": True}
    # Genesis compiles its kernels on the main thread.
    load_in_thread = False

    def __init__(self) -> None:
        ok, why = available()
        if not ok:
            raise SimError("E_SIM_BACKEND", why)
        self.engine = why
        wanted = os.environ.get("TELEKIT_GENESIS_BACKEND", "auto")
        if wanted == "auto":
            import torch

            wanted = "gpu" if torch.cuda.is_available() else "cpu"
        gs.init(backend=gs.gpu if wanted == "gpu" else gs.cpu, logging_level="warning")
        self.engine = f"{self.engine} ({wanted})"
        self.scene = None
        self.sim = None
        self.robot = None
        self.camera = None
        self._time = 0.0
        self._step = 0
        self._dt = 0.005
        self._camera_size = None
        #: Dofs with a velocity target that is not zero (what the deadman stops).
        self._driven: set[int] = set()

    def load(self, scene: dict) -> dict:
        scene_id = str(scene.get("id") or "scene")
        if scene.get("mjcf") is not None:
            handle = tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False)
            handle.write(str(scene["mjcf"]))
            handle.close()
            path = handle.name
        else:
            path = str(scene.get("path") or scene_id)
            if path in BUNDLED:
                path = _scene_path(path)
        try:
            self.sim = gs.Scene(sim_options=gs.options.SimOptions(dt=self._dt), show_viewer=False)
            self.robot = self.sim.add_entity(gs.morphs.MJCF(file=path))
            self.camera = self.sim.add_camera(res=(640, 480), pos=(-2, -2, 1.6), lookat=(0, 0, 0), fov=50, GUI=False)
            self.sim.build()
        except Exception as error:  # noqa: BLE001
            raise SimError("E_SIM_SCENE", f"cannot load {path}: {error}", file=path) from error
        self.scene = scene_id
        self._time = 0.0
        self._step = 0
        self._driven.clear()
        joints = [j.name for j in self.robot.joints if j.dof_idx_local is not None]
        return {"id": scene_id, "timestep": self._dt, "bodies": [l.name for l in self.robot.links], "joints": joints, "actuators": joints, "cameras": ["overview"], "hasBase": False}

    def reset(self) -> None:
        self.require_scene()
        self.sim.reset()
        self._driven.clear()
        self._time = 0.0
        self._step = 0

    def step(self, n: int) -> None:
        for _ in range(n):
            self.sim.step()
            self._time += self._dt
            self._step += 1

    @property
    def time(self) -> float:
        return self._time

    @property
    def timestep(self) -> float:
        return self._dt

    def require_scene(self) -> None:
        if self.robot is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")

    def prepare(self, action: dict[str, Any]) -> PreparedAction:
        self.require_scene()
        robot = self.robot
        kind = action.get("kind")
        if kind == "joints":
            names, targets = joint_targets(action)
            idx = []
            for name in names:
                joint = next((j for j in robot.joints if j.name == name), None)
                if joint is None:
                    raise SimError("E_UNKNOWN_JOINT", f"unknown joint {name}", field=name)
                idx.append(joint.dof_idx_local)
            position, velocity = targets.get("position"), targets.get("velocity")

            def move() -> None:
                if position is not None:
                    robot.control_dofs_position(np.array(position), idx)
                    self._driven.difference_update(idx)
                if velocity is not None:
                    robot.control_dofs_velocity(np.array(velocity), idx)
                    for i, v in zip(idx, velocity):
                        if v != 0.0:
                            self._driven.add(i)
                        else:
                            self._driven.discard(i)

            return PreparedAction("joints", frozenset(idx), move)
        if kind == "freeze":

            def freeze() -> None:
                robot.control_dofs_velocity(np.zeros(robot.n_dofs))
                self._driven.clear()

            return PreparedAction("freeze", frozenset(range(robot.n_dofs)), freeze)
        if kind == "twist":
            raise SimError("E_SIM_NO_BASE", "the genesis backend drives bases through joints: send /controller/joints")
        raise SimError("E_VALIDATION", f"unknown action kind {kind!r}", field="kind")

    def stop_motion(self) -> None:
        if self.robot is None or not self._driven:
            return
        idx = sorted(self._driven)
        self.robot.control_dofs_velocity(np.zeros(len(idx)), idx)
        self._driven.clear()

    def moving(self) -> bool:
        return bool(self._driven)

    def motion(self) -> Motion:
        if self.robot is None:
            return Motion()
        qvel = self.robot.get_dofs_velocity().cpu().numpy()
        return Motion(joint=float(np.abs(qvel).max()) if qvel.size else 0.0)

    def state(self) -> dict:
        pos = self.robot.get_links_pos().cpu().numpy()
        quat = self.robot.get_links_quat().cpu().numpy()
        bodies = [{"name": l.name, "position": pos[i].tolist(), "orientation": quat[i].tolist()} for i, l in enumerate(self.robot.links)]
        qpos = self.robot.get_dofs_position().cpu().numpy().tolist()
        qvel = self.robot.get_dofs_velocity().cpu().numpy().tolist()
        names = [j.name for j in self.robot.joints if j.dof_idx_local is not None]
        return {"scene": self.scene, "time": self._time, "bodies": bodies, "joints": {"name": names, "position": qpos[: len(names)], "velocity": qvel[: len(names)]}, "contacts": 0, "base": None, "imu": None}

    def snapshot(self) -> dict:
        qpos = self.robot.get_qpos().cpu().numpy().astype(np.float64)
        qvel = self.robot.get_dofs_velocity().cpu().numpy().astype(np.float64)
        data = np.concatenate([[self._time, len(qpos)], qpos, qvel]).tobytes()
        return {"scene": self.scene, "engine": self.engine, "time": self._time, "data": data}

    def restore(self, snapshot: dict) -> None:
        if snapshot.get("scene") != self.scene or snapshot.get("engine") != self.engine:
            raise SimError("E_SIM_SNAPSHOT", f"snapshot is from {snapshot.get('scene')} on {snapshot.get('engine')}, this is {self.scene} on {self.engine}")
        values = np.frombuffer(snapshot["data"], dtype=np.float64)
        self._time = float(values[0])
        n = int(values[1])
        self.robot.set_qpos(values[2 : 2 + n])
        self.robot.set_dofs_velocity(values[2 + n :])

    def render(self, camera: str | None, width: int, height: int, options: RenderOptions | None = None) -> Future[np.ndarray]:
        # Genesis renders where it simulates; the frame is ready when this returns. Its renderer
        # decides shadows, reflections and anti-aliasing itself: only the format and stamp apply.
        done: Future[np.ndarray] = Future()
        try:
            done.set_result(picture(self._render(width, height), options or RenderOptions()))
        except Exception as error:  # noqa: BLE001 - the caller gets it from the future
            done.set_exception(error)
        return done

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        # Genesis's camera is the scene's own, sampled to any size: only a scene is needed.
        self.require_scene()

    def render_threads(self) -> frozenset[int]:
        return frozenset()

    def _render(self, width: int, height: int) -> np.ndarray:
        self.require_scene()
        rgb = np.asarray(self.camera.render()[0])
        if rgb.shape[0] != height or rgb.shape[1] != width:
            # The camera's resolution is fixed when the scene is built: sample it to the size asked for.
            rows = (np.arange(height) * rgb.shape[0] // height).clip(0, rgb.shape[0] - 1)
            cols = (np.arange(width) * rgb.shape[1] // width).clip(0, rgb.shape[1] - 1)
            rgb = rgb[rows][:, cols]
        return rgb

    def close(self) -> None:
        self.sim = None
