"""The Genesis backend (genesis-world): GPU physics and rendering, or Genesis's CPU backend.

Installed only on request (`bash scripts/setup.sh --genesis`): it pulls PyTorch. Scenes are the
same MJCF files the MuJoCo backend loads, read first by MuJoCo's compiler (`scene_model`): the drive,
the actuators and the cameras come from there, and Genesis builds the scene with `gs.morphs.MJCF`.

**One thread.** Every call into Genesis runs on a thread of its own (`telekit-genesis`): importing it,
starting it, building a scene (which compiles its kernels: minutes on a CPU the first time), stepping,
reading state, rendering. The sidecar's event loop stays free to answer pings and to send the
progress of a load while Genesis compiles (apart from the stretches where Genesis's compiler holds
Python's lock, which the supervisor allows for during a warm-up).

**The kernel cache.** Quadrants (Genesis's kernel compiler) keeps compiled kernels on disk; Genesis
keeps processed meshes. Both go under the directory given as `cache_dir` (`--genesis-cache`,
`$TELEKIT_GENESIS_CACHE`): `kernels/` and `genesis/`. With the cache warm a scene builds in seconds.

**Actuators as MuJoCo drives them.** Genesis reads each MJCF actuator as MuJoCo's affine model
(`force = gain * ctrl + bias0 + bias1 * q + bias2 * qdot`), which its position mode computes with the
target as `ctrl`: every actuated joint is driven in that mode, its target being the actuator's
control input, clamped to its `ctrlrange` as MuJoCo clamps it. A velocity servo with input 0 brakes,
as in MuJoCo.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from . import poses
from .backend import Motion, PreparedAction, Progress, RenderOptions, joint_targets, no_progress, picture, vector
from .errors import SimError
from .scene_model import (
    Actuator,
    CameraSpec,
    Drive,
    SceneSource,
    compile_model,
    named_joints,
    read_actuators,
    read_cameras,
    read_drive,
    scene_source,
)

T = TypeVar("T")

#: Genesis, once imported on its thread (`import genesis as gs`).
gs: Any = None

#: The camera resolution Genesis renders at (a camera's resolution is fixed when the scene is built);
#: other sizes are sampled from it.
CAMERA_RES = (640, 480)
#: Where the free camera (no camera named) stands and looks.
FREE_CAMERA = {"pos": (-2.0, -2.0, 1.6), "lookat": (0.0, 0.0, 0.0), "fov": 50.0}
#: Steps the warm-up runs (see `GenesisBackend._warm`).
WARM_STEPS = 20
#: Where a snapshot's Telekit fields are kept among the engine's arrays.
_OWN = "telekit"


def version() -> str | None:
    try:
        return importlib.metadata.version("genesis-world")
    except importlib.metadata.PackageNotFoundError:
        return None


def available() -> tuple[bool, str]:
    """Whether genesis-world is installed (without importing it: that takes seconds)."""
    if importlib.util.find_spec("genesis") is None:
        return False, "genesis-world is not installed (bash scripts/setup.sh --genesis)"
    return True, f"genesis {version() or '?'}"


def cache_is_cold(cache_dir: str | None) -> bool:
    """True when the kernel cache has nothing in it yet (the first build compiles every kernel)."""
    if cache_dir is None:
        return True
    kernels = os.path.join(cache_dir, "kernels")
    return not os.path.isdir(kernels) or not any(os.scandir(kernels))


def _rotation(q: np.ndarray) -> np.ndarray:
    """The rotation matrix of a unit quaternion (w, x, y, z)."""
    w, x, y, z = (float(v) for v in q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


@dataclass
class _Scene:
    """A built Genesis scene and what the sidecar knows about it."""

    id: str
    key: str
    label: str
    timestep: float
    scene: Any
    entity: Any
    drive: Drive | None
    actuators: list[Actuator]
    #: Genesis's local dof index of each actuator's joint (actuators without one are left out).
    dof: dict[int, int]
    #: Link indices (local) and names of the bodies reported: every link but the fixed world link.
    links: list[tuple[int, str]]
    #: Reported joints (hinges and slides, not the wheels): name, local q index, local dof index.
    joints: list[tuple[str, int, int]]
    #: Every hinge and slide joint (wheels included), for pose snapshots.
    all_joints: list[tuple[str, int, int]]
    cameras: dict[str, Any]
    free_camera: Any
    #: Attached cameras: name → (link index, 4×4 pose of the camera in the link).
    attached: dict[str, tuple[int, np.ndarray]]
    camera_names: list[str]
    #: The scene declares MuJoCo's IMU sensors (`imu_orientation`, `imu_gyro`, `imu_accel`): the link they sit on.
    imu_link: int | None
    gravity: np.ndarray
    #: Every actuator's control input now (MuJoCo's `ctrl`).
    ctrl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time: float = 0.0
    #: Genesis's checkpoint of the scene as built: a reset restores it, bit for bit.
    initial: Any = None

    def base_link(self) -> int | None:
        if self.drive is None:
            return None
        return next(i for i, name in self.links if name == self.drive.base)


class GenesisBackend:
    name = "genesis"
    capabilities = {"base": True, "joints": True, "camera": True, "snapshot": True}
    # Genesis runs on its own thread: the load waits for it from a worker thread, never on the loop.
    load_in_thread = True
    # It renders where it steps (below): a frame stops the physics while it renders.
    renders_on_physics_thread = True

    def __init__(self, cache_dir: str | None = None, device: str | None = None) -> None:
        ok, why = available()
        if not ok:
            raise SimError("E_SIM_BACKEND", why)
        self.engine = why
        self.cache_dir = cache_dir or os.environ.get("TELEKIT_GENESIS_CACHE") or None
        if self.cache_dir is not None:
            # Read by Genesis and Quadrants when they start (below, on the Genesis thread).
            os.environ["GS_CACHE_FILE_PATH"] = os.path.join(self.cache_dir, "genesis")
            os.environ["QD_OFFLINE_CACHE_FILE_PATH"] = os.path.join(self.cache_dir, "kernels")
        self.device = device or os.environ.get("TELEKIT_GENESIS_BACKEND", "auto")
        if self.device not in ("auto", "cpu", "gpu"):
            raise SimError(
                "E_SIM_BACKEND",
                f"TELEKIT_GENESIS_BACKEND must be auto, cpu or gpu, got {self.device}",
                field="TELEKIT_GENESIS_BACKEND",
            )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telekit-genesis")
        self._thread_id: int | None = None
        #: Set once Genesis has started, on its thread.
        self._on_gpu = False
        # Importing Genesis and PyTorch takes seconds: it starts now, in the background.
        self._boot = self._thread.submit(self._start)
        self._scene: _Scene | None = None
        #: While a load runs on the Genesis thread, calls that would wait for it return at once.
        self._loading = False
        self._stop_after_load = False
        self._motion = Motion()
        self._closed = False

    # ------------------------------------------------------------------ the Genesis thread
    def _start(self) -> None:
        global gs
        self._thread_id = threading.get_native_id()
        import genesis

        gs = genesis
        wanted = self.device
        if wanted == "auto":
            import torch

            wanted = "gpu" if torch.cuda.is_available() else "cpu"
        # Warnings of Quadrants' compiler are many and harmless; errors still come through.
        gs.init(backend=gs.gpu if wanted == "gpu" else gs.cpu, logging_level="error")
        self._on_gpu = wanted == "gpu"
        self.engine = f"genesis {version() or gs.__version__} ({wanted})"

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs `fn` on the Genesis thread and waits for it."""
        if threading.get_native_id() == self._thread_id:
            return fn(*args)
        return self._thread.submit(fn, *args).result()

    def _started(self, progress: Progress) -> None:
        if not self._boot.done():
            progress("import", "importing Genesis and PyTorch (10–30 s)")
        try:
            self._boot.result()
        except Exception as error:  # noqa: BLE001
            raise SimError("E_SIM_BACKEND", f"genesis could not start: {error}") from error

    # ------------------------------------------------------------------ scene
    def load(self, scene: dict[str, Any], progress: Progress = no_progress) -> dict[str, Any]:
        """Builds the scene (compiling Genesis's kernels) and warms it up; only then does it replace
        the running one. A failure leaves the running scene as it was."""
        source = scene_source(scene)
        if source.menagerie is not None:
            raise SimError(
                "E_SIM_SCENE",
                f"cannot load {source.label}: Menagerie robots load on the MuJoCo backend only",
                file=source.label,
            )
        progress("scene", f"reading {source.label} with MuJoCo's compiler")
        model = compile_model(source)
        self._started(progress)
        self._loading = True
        try:
            return self._call(self._build, source, model, progress)
        finally:
            self._loading = False
            if self._stop_after_load:
                self._stop_after_load = False
                self.stop_motion()

    def _build(self, source: SceneSource, model: Any, progress: Progress) -> dict[str, Any]:
        current = self._scene
        if current is not None and current.key == source.key() and current.id == source.id:
            progress("reset", f"{source.label} is loaded already: back to its initial state")
            self._reset(current)
            return self._describe(current)
        drive = read_drive(model, source.label)
        actuators = read_actuators(model)
        cameras = read_cameras(model)
        cold = cache_is_cold(self.cache_dir)
        progress(
            "build",
            "building the scene and compiling Genesis kernels, "
            + (
                "first run with an empty kernel cache: about 2–3 min on a CPU"
                if cold
                else "most of them from the kernel cache: about 10–30 s"
            ),
        )
        path, temporary = source.path, None
        if path is None:
            handle = tempfile.NamedTemporaryFile("w", suffix=".xml", prefix="telekit-scene-", delete=False)
            handle.write(str(source.mjcf))
            handle.close()
            path = temporary = handle.name
        built = None
        try:
            built = self._make(source, model, path, drive, actuators, cameras)
            progress("warmup", "compiling what steps, commands, snapshots, resets and the cameras use")
            self._warm(built)
        except SimError:
            self._destroy(built)
            raise
        except Exception as error:  # noqa: BLE001 - Genesis raises its own exceptions with a message
            self._destroy(built)
            raise SimError(
                "E_SIM_SCENE",
                f"cannot load {source.label}: genesis: {str(error).strip() or type(error).__name__}",
                file=source.label,
            ) from error
        finally:
            if temporary is not None:
                os.unlink(temporary)
        # Everything built and warmed up: the new scene replaces the running one in one go.
        self._scene = built
        self._destroy(current)
        return self._describe(built)

    def _make(
        self,
        source: SceneSource,
        model: Any,
        path: str,
        drive: Drive | None,
        actuators: list[Actuator],
        cameras: list[CameraSpec],
    ) -> _Scene:
        import mujoco

        opt = model.opt
        integrator = (
            gs.integrator.Euler
            if int(opt.integrator) == int(mujoco.mjtIntegrator.mjINT_EULER)
            else gs.integrator.implicitfast
        )
        cone = (
            gs.friction_cone.elliptic
            if int(opt.cone) == int(mujoco.mjtCone.mjCONE_ELLIPTIC)
            else gs.friction_cone.pyramidal
        )
        timestep = float(opt.timestep)
        gravity = np.array(opt.gravity, dtype=np.float64)
        scene = gs.Scene(
            sim_options=gs.options.SimOptions(dt=timestep, gravity=tuple(float(g) for g in gravity)),
            rigid_options=gs.options.RigidOptions(
                integrator=integrator,
                friction_cone=cone,
                iterations=int(opt.iterations),
                tolerance=float(opt.tolerance),
                ls_iterations=int(opt.ls_iterations),
                # The solver as MuJoCo's, so that a browser simulating the scene on MuJoCo stays close.
                enable_mujoco_compatibility=os.environ.get("TELEKIT_GENESIS_MUJOCO_COMPAT", "1") != "0",
            ),
            # Shadows cost a software rasteriser dearly (the camera renders on the physics thread): on
            # a GPU they are drawn, on the CPU not, as the MuJoCo backend's cheap defaults have it.
            vis_options=gs.options.VisOptions(shadow=self._on_gpu, plane_reflection=False),
            show_viewer=False,
        )
        entity = scene.add_entity(gs.morphs.MJCF(file=path))
        camera_objects: dict[str, Any] = {}
        attached_specs: dict[str, CameraSpec] = {}
        for spec in cameras:
            rotation = _rotation(np.array(spec.quat))
            if spec.body == "world":
                pos = np.array(spec.pos)
                camera_objects[spec.name] = scene.add_camera(
                    res=CAMERA_RES,
                    pos=tuple(pos),
                    # MuJoCo's cameras look along their -z axis, +y up.
                    lookat=tuple(pos - rotation[:, 2]),
                    up=tuple(rotation[:, 1]),
                    fov=spec.fovy,
                    GUI=False,
                )
            else:
                camera_objects[spec.name] = scene.add_camera(
                    res=CAMERA_RES, pos=(0.0, 0.0, 1.0), lookat=(1.0, 0.0, 1.0), fov=spec.fovy, GUI=False
                )
                attached_specs[spec.name] = spec
        free_camera = scene.add_camera(
            res=CAMERA_RES, pos=FREE_CAMERA["pos"], lookat=FREE_CAMERA["lookat"], fov=FREE_CAMERA["fov"], GUI=False
        )
        scene.build()
        links = [(i, link.name) for i, link in enumerate(entity.links) if not (i == 0 and link.name == "world")]
        link_index = {name: i for i, name in links}
        by_name = {joint.name: joint for joint in entity.joints}
        reported = set(named_joints(model, drive))
        all_joints: list[tuple[str, int, int]] = []
        for joint in entity.joints:
            if (
                joint.n_dofs == 1
                and joint.n_qs == 1
                and int(joint.type) in (int(gs.JOINT_TYPE.REVOLUTE), int(gs.JOINT_TYPE.PRISMATIC))
            ):
                all_joints.append((joint.name, int(joint.qs_idx_local[0]), int(joint.dofs_idx_local[0])))
        joints = [j for j in all_joints if j[0] in reported]
        dof: dict[int, int] = {}
        for actuator in actuators:
            joint = by_name.get(actuator.joint) if actuator.joint is not None else None
            if joint is not None and joint.n_dofs == 1:
                dof[actuator.index] = int(joint.dofs_idx_local[0])
        attached = {}
        for name, spec in attached_specs.items():
            if spec.body not in link_index:
                raise SimError(
                    "E_SIM_SCENE",
                    f"camera {name} is attached to body {spec.body}, which Genesis merged away",
                    file=source.label,
                )
            pose = np.eye(4)
            pose[:3, :3] = _rotation(np.array(spec.quat))
            pose[:3, 3] = spec.pos
            attached[name] = (link_index[spec.body], pose)
            camera_objects[name].attach(entity.links[link_index[spec.body]], pose)
        imu_link = self._imu_link(model, link_index)
        made = _Scene(
            id=source.id,
            key=source.key(),
            label=source.label,
            timestep=timestep,
            scene=scene,
            entity=entity,
            drive=drive,
            actuators=actuators,
            dof=dof,
            links=links,
            joints=joints,
            all_joints=all_joints,
            cameras=camera_objects,
            free_camera=free_camera,
            attached=attached,
            camera_names=[c.name for c in cameras],
            imu_link=imu_link,
            gravity=gravity,
            ctrl=np.zeros(len(actuators)),
        )
        made.initial = scene.sim.__getstate__()
        return made

    @staticmethod
    def _imu_link(model: Any, link_index: dict[str, int]) -> int | None:
        import mujoco

        from .scene_model import name_of

        body = None
        for sensor in ("imu_orientation", "imu_gyro", "imu_accel"):
            s = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, sensor)
            if s < 0:
                return None
            site = int(model.sensor_objid[s])
            if int(model.sensor_objtype[s]) != int(mujoco.mjtObj.mjOBJ_SITE):
                return None
            body = name_of(model, mujoco.mjtObj.mjOBJ_BODY, int(model.site_bodyid[site]))
        return link_index.get(body) if body is not None else None

    def _warm(self, s: _Scene) -> None:
        """Runs once what later calls use, so that their kernels compile now (in the warm-up), not at
        the first command, snapshot or frame; then puts the scene back at its start.

        Quadrants compiles (or loads from its cache) a kernel when it is first called, holding Python's
        lock for up to seconds: a running sidecar that met one then left its supervisor's pings
        unanswered and was restarted as hung. Measured on a 2-core machine with the cache warm, the
        first 20 steps after a one-step warm-up took 1.2 s (15.8 s with those kernels not yet
        cached), and a camera's first frame 1.1 s against 0.2 s for the next."""
        self._drive(s, s.ctrl)
        # Some kernels run only once the bodies touch (contacts, the constraint solver): step a while.
        for _ in range(WARM_STEPS):
            s.scene.step()
        self._read(s)
        entity = s.entity
        entity.get_links_acc()
        entity.get_qpos()
        entity.get_dofs_velocity()
        self._freeze(s)
        for name in s.camera_names:
            self._render(s, name, *CAMERA_RES)
        self._render(s, None, *CAMERA_RES)
        self._reset(s)

    def _destroy(self, s: _Scene | None) -> None:
        if s is None:
            return
        try:
            s.scene.destroy()
        except Exception:  # noqa: BLE001 - freeing a scene must not fail a load
            pass

    def _describe(self, s: _Scene) -> dict[str, Any]:
        return {
            "id": s.id,
            "timestep": s.timestep,
            "bodies": [name for _, name in s.links],
            "joints": [name for name, _, _ in s.joints],
            "actuators": [a.name for a in s.actuators],
            "cameras": list(s.camera_names),
            "hasBase": s.drive is not None,
            "engine": self.engine,
        }

    def require_scene(self) -> None:
        if self._scene is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")

    def _loaded(self) -> _Scene:
        s = self._scene
        if s is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")
        return s

    # ------------------------------------------------------------------ stepping
    def reset(self) -> None:
        s = self._loaded()
        self._call(self._reset, s)

    def _reset(self, s: _Scene) -> None:
        s.scene.reset()
        s.scene.sim.__setstate__(s.initial)
        s.ctrl = np.zeros(len(s.actuators))
        self._drive(s, s.ctrl)
        s.time = 0.0
        self._motion = Motion()

    def step(self, n: int) -> None:
        s = self._loaded()
        self._call(self._step, s, n)

    def _step(self, s: _Scene, n: int) -> None:
        for _ in range(n):
            s.scene.step()
        # From the step count, not summed: the same time however the steps were batched (a long
        # `step` runs in turns of varying length), so a restored snapshot has the same future.
        s.time = (round(s.time / s.timestep) + n) * s.timestep

    @property
    def time(self) -> float:
        return self._scene.time if self._scene is not None else 0.0

    @property
    def timestep(self) -> float:
        return self._loaded().timestep

    # ------------------------------------------------------------------ actions
    def _drive(self, s: _Scene, ctrl: np.ndarray) -> None:
        """Drives every actuated joint with its actuator's control input (see the module's doc)."""
        if not s.dof:
            return
        indices = sorted(s.dof)
        s.entity.control_dofs_position(
            np.array([ctrl[a] for a in indices], dtype=np.float64), [s.dof[a] for a in indices]
        )

    def _set(self, s: _Scene, values: dict[int, float]) -> None:
        for a, value in values.items():
            s.ctrl[a] = s.actuators[a].clamp(value)
        self._drive(s, s.ctrl)

    def _actuator_for(self, s: _Scene, name: str) -> int:
        for a in s.actuators:
            if a.name == name:
                return a.index
        for a in s.actuators:
            if a.joint == name:
                return a.index
        names = ", ".join(n for n, _, _ in s.joints) or "no actuated joints"
        raise SimError("E_UNKNOWN_JOINT", f"unknown joint {name}: scene {s.id} has {names}", field=name)

    def prepare(self, action: dict[str, Any]) -> PreparedAction:
        s = self._loaded()
        kind = action.get("kind")
        if kind == "twist":
            if s.drive is None:
                raise SimError("E_SIM_NO_BASE", f"scene {s.id} has no base that a twist drives")
            v = vector(action, "linear")[0]
            wz = vector(action, "angular")[2]
            left, right = self._actuator_for(s, s.drive.left), self._actuator_for(s, s.drive.right)
            speeds = dict(zip((left, right), s.drive.wheel_speeds(v, wz), strict=True))
            return PreparedAction("twist", frozenset(speeds), lambda: self._call(self._set, s, speeds))
        if kind == "joints":
            names, targets = joint_targets(action)
            values: dict[int, float] = {}
            for i, name in enumerate(names):
                a = self._actuator_for(s, name)
                # Several lists for one joint: the last (velocity, then effort) is what the actuator gets.
                for field_values in targets.values():
                    values[a] = field_values[i]
            return PreparedAction("joints", frozenset(values), lambda: self._call(self._set, s, values))
        if kind == "freeze":
            return PreparedAction("freeze", frozenset(range(len(s.actuators))), lambda: self._call(self._freeze, s))
        raise SimError("E_VALIDATION", f"unknown action kind {kind!r}: expected twist, joints or freeze", field="kind")

    def _freeze(self, s: _Scene) -> None:
        # Position servos hold where they are; everything else goes to zero.
        q = s.entity.get_dofs_position().cpu().numpy()
        for a in s.actuators:
            s.ctrl[a.index] = float(q[s.dof[a.index]]) if a.holds_position and a.index in s.dof else 0.0
        self._drive(s, s.ctrl)

    def stop_motion(self) -> None:
        s = self._scene
        if s is None or not self.moving():
            return
        if self._loading:
            # Genesis is building another scene on its thread: stop once it is done (it steps nothing meanwhile).
            self._stop_after_load = True
            return
        self._call(self._set, s, {a.index: 0.0 for a in s.actuators if not a.holds_position})

    def moving(self) -> bool:
        s = self._scene
        if s is None:
            return False
        return any(s.ctrl[a.index] != 0.0 for a in s.actuators if not a.holds_position)

    def motion(self) -> Motion:
        s = self._scene
        if s is None or self._loading:
            return self._motion
        self._motion = self._call(self._motion_now, s)
        return self._motion

    def _motion_now(self, s: _Scene) -> Motion:
        qvel = s.entity.get_dofs_velocity().cpu().numpy()
        joint = max((abs(float(qvel[d])) for _, _, d in s.joints), default=0.0)
        base = s.base_link()
        if s.drive is None or base is None:
            return Motion(joint=joint)
        left = float(qvel[s.dof[self._actuator_for(s, s.drive.left)]])
        right = float(qvel[s.dof[self._actuator_for(s, s.drive.right)]])
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

    # ------------------------------------------------------------------ state
    def _read(self, s: _Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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

    def state(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(self._state, s)

    def _state(self, s: _Scene) -> dict[str, Any]:
        pos, quat, vel, ang, q, qdot = self._read(s)
        out: dict[str, Any] = {
            "scene": s.id,
            "time": s.time,
            "bodies": [
                {"name": name, "position": pos[i].tolist(), "orientation": quat[i].tolist()} for i, name in s.links
            ],
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
            to_local = _rotation(quat[base]).T
            out["base"] = {
                "position": pos[base].tolist(),
                "orientation": quat[base].tolist(),
                "linear": (to_local @ vel[base]).tolist(),
                "angular": (to_local @ ang[base]).tolist(),
            }
        if s.imu_link is not None:
            i = s.imu_link
            to_local = _rotation(quat[i]).T
            acc = s.entity.get_links_acc().cpu().numpy().astype(np.float64)[i]
            # An accelerometer reads the specific force: acceleration less gravity, in its own frame.
            out["imu"] = {
                "orientation": quat[i].tolist(),
                "angularVelocity": (to_local @ ang[i]).tolist(),
                "linearAcceleration": (to_local @ (acc - s.gravity)).tolist(),
            }
        return out

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(self._snapshot, s)

    def _snapshot(self, s: _Scene) -> dict[str, Any]:
        # Genesis's own checkpoint of the simulation (every array a step reads from one step to the
        # next: bit-exact), written as a NumPy archive: no pickle crosses the wire.
        checkpoint = s.scene.sim.__getstate__()
        arrays: dict[str, np.ndarray] = {
            f"{_OWN}|steps": np.asarray(_numpy(checkpoint.steps)),
            f"{_OWN}|time": np.array([s.time]),
            f"{_OWN}|ctrl": s.ctrl.copy(),
        }
        for solver, state in checkpoint.solvers.items():
            for name, array in state.arrays.items():
                arrays[f"{solver}|{name}"] = _numpy(array)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return {"scene": s.id, "engine": self.engine, "time": s.time, "data": buffer.getvalue()}

    def restore(self, snapshot: dict[str, Any]) -> None:
        s = self._loaded()
        if snapshot.get("scene") != s.id:
            raise SimError(
                "E_SIM_SNAPSHOT", f"snapshot is from scene {snapshot.get('scene')}, this is {s.id}", field="scene"
            )
        if snapshot.get("engine") != self.engine:
            raise SimError(
                "E_SIM_SNAPSHOT", f"snapshot is from {snapshot.get('engine')}, this is {self.engine}", field="engine"
            )
        data = snapshot.get("data")
        if not isinstance(data, (bytes, bytearray)):
            raise SimError("E_SIM_SNAPSHOT", "snapshot data must be bytes", field="data")
        try:
            with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except Exception as error:  # noqa: BLE001 - not an archive, or a damaged one
            raise SimError(
                "E_SIM_SNAPSHOT", f"snapshot data is not a Genesis checkpoint: {error}", field="data"
            ) from error
        self._call(self._restore, s, arrays)

    def _restore(self, s: _Scene, arrays: dict[str, np.ndarray]) -> None:
        import torch

        checkpoint = s.scene.sim.__getstate__()
        own = {f"{_OWN}|steps", f"{_OWN}|time", f"{_OWN}|ctrl"}
        expected = {f"{solver}|{name}" for solver, state in checkpoint.solvers.items() for name in state.arrays} | own
        if set(arrays) != expected:
            raise SimError(
                "E_SIM_SNAPSHOT",
                f"snapshot data does not fit scene {s.id} ({len(arrays)} arrays, {len(expected)} expected): another model under the same name?",
                field="data",
            )
        for solver, state in checkpoint.solvers.items():
            for name, current in state.arrays.items():
                value = arrays[f"{solver}|{name}"]
                if tuple(value.shape) != tuple(current.shape):
                    raise SimError(
                        "E_SIM_SNAPSHOT",
                        f"snapshot array {solver}.{name} has shape {tuple(value.shape)}, this scene {tuple(current.shape)}",
                        field="data",
                    )
                state.arrays[name] = (
                    torch.as_tensor(value, device=current.device).to(current.dtype)
                    if isinstance(current, torch.Tensor)
                    else value.astype(current.dtype)
                )
        ctrl = arrays[f"{_OWN}|ctrl"]
        if ctrl.shape != s.ctrl.shape:
            raise SimError(
                "E_SIM_SNAPSHOT",
                f"snapshot has {ctrl.shape[0]} actuator inputs, scene {s.id} has {s.ctrl.shape[0]}",
                field="data",
            )
        steps = arrays[f"{_OWN}|steps"]
        checkpoint.steps = (
            torch.as_tensor(steps, device=checkpoint.steps.device)
            if isinstance(checkpoint.steps, torch.Tensor)
            else steps
        )
        s.scene.sim.__setstate__(checkpoint)
        s.ctrl = ctrl.astype(np.float64)
        self._drive(s, s.ctrl)
        s.time = float(arrays[f"{_OWN}|time"][0])

    def poses(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(self._poses, s)

    def _poses(self, s: _Scene) -> dict[str, Any]:
        pos, quat, vel, ang, q, qdot = self._read(s)
        bodies = [poses.body(name, pos[i], quat[i], vel[i], ang[i]) for i, name in s.links]
        joints = [{"name": name, "position": float(q[d]), "velocity": float(qdot[d])} for name, _, d in s.all_joints]
        return {"scene": s.id, "engine": self.engine, "time": s.time, "data": poses.encode(bodies, joints)}

    # ------------------------------------------------------------------ camera
    def render(
        self, camera: str | None, width: int, height: int, options: RenderOptions | None = None
    ) -> Future[np.ndarray]:
        """Renders on the Genesis thread (between steps: Genesis renders where it simulates). Its
        renderer decides shadows, reflections and anti-aliasing itself: only the format and stamp apply."""
        s = self._loaded()
        self.check_camera(camera, width, height)
        return self._thread.submit(lambda: picture(self._render(s, camera, width, height), options or RenderOptions()))

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        s = self._loaded()
        if camera and camera not in s.cameras:
            names = ", ".join(s.camera_names) or "none"
            raise SimError("E_SIM_CAMERA", f"no camera {camera} in scene {s.id} (it has: {names})", field="camera")

    def render_threads(self) -> frozenset[int]:
        # The Genesis thread steps and renders both: its CPU counts as the loop's.
        return frozenset()

    def _render(self, s: _Scene, camera: str | None, width: int, height: int) -> np.ndarray:
        cam = s.cameras[camera] if camera else s.free_camera
        if camera in s.attached:
            cam.move_to_attach()
        rgb = np.asarray(cam.render()[0])
        if rgb.shape[0] != height or rgb.shape[1] != width:
            # The camera's resolution is fixed when the scene is built: sample it to the size asked for.
            rows = (np.arange(height) * rgb.shape[0] // height).clip(0, rgb.shape[0] - 1)
            cols = (np.arange(width) * rgb.shape[1] // width).clip(0, rgb.shape[1] - 1)
            rgb = rgb[rows][:, cols]
        return rgb

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A build still compiling is left to the process's exit: waiting for it could take minutes.
        self._thread.shutdown(wait=False, cancel_futures=True)


def _numpy(array: Any) -> np.ndarray:
    """A checkpoint array (a torch tensor or a NumPy array) as a NumPy array on the host."""
    if isinstance(array, np.ndarray):
        return array
    return array.detach().cpu().numpy()


def warm(scene: str, cache_dir: str | None, progress: Progress) -> float:
    """Builds a bundled scene once to fill the kernel cache (`python -m telekit_sim --warm`); returns
    the seconds it took."""
    started = time.monotonic()
    backend = GenesisBackend(cache_dir=cache_dir)
    try:
        backend.load({"id": scene}, progress)
    finally:
        backend.close()
    return time.monotonic() - started
