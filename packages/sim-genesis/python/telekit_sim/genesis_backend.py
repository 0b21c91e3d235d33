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

This module is the backend itself: the Genesis thread, loading (a transaction), stepping, commands,
and the calls the sidecar makes. The scene and what is done to it directly are in `genesis_scene.py`,
building it in `genesis_build.py`, reading its state in `genesis_state.py`, its snapshots in
`genesis_checkpoint.py`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from . import genesis_checkpoint, genesis_state
from .backend import Motion, PreparedAction, Progress, RenderOptions, joint_targets, no_progress, picture, vector
from .errors import SimError
from .genesis_build import CAMERA_RES, build_scene
from .genesis_scene import GenesisScene
from .scene_model import SceneSource, compile_model, read_actuators, read_cameras, read_drive, scene_source

T = TypeVar("T")

#: Genesis, once imported on its thread (`import genesis as gs`).
gs: Any = None

#: Steps the warm-up runs (see `GenesisBackend._warm`).
WARM_STEPS = 20


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
        self._scene: GenesisScene | None = None
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
            return current.describe(self.engine)
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
            built = build_scene(source, model, path, drive, actuators, cameras, shadows=self._on_gpu)
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
        return built.describe(self.engine)

    def _warm(self, s: GenesisScene) -> None:
        """Runs once what later calls use, so that their kernels compile now (in the warm-up), not at
        the first command, snapshot or frame; then puts the scene back at its start.

        Quadrants compiles (or loads from its cache) a kernel when it is first called, holding Python's
        lock for up to seconds: a running sidecar that met one then left its supervisor's pings
        unanswered and was restarted as hung. Measured on a 2-core machine with the cache warm, the
        first 20 steps after a one-step warm-up took 1.2 s (15.8 s with those kernels not yet
        cached), and a camera's first frame 1.1 s against 0.2 s for the next."""
        s.apply_ctrl()
        # Some kernels run only once the bodies touch (contacts, the constraint solver): step a while.
        for _ in range(WARM_STEPS):
            s.scene.step()
        genesis_state.read(s)
        entity = s.entity
        entity.get_links_acc()
        entity.get_qpos()
        entity.get_dofs_velocity()
        s.freeze()
        for name in s.camera_names:
            s.render(name, *CAMERA_RES)
        s.render(None, *CAMERA_RES)
        self._reset(s)

    def _destroy(self, s: GenesisScene | None) -> None:
        if s is None:
            return
        try:
            s.scene.destroy()
        except Exception:  # noqa: BLE001 - freeing a scene must not fail a load
            pass

    def require_scene(self) -> None:
        if self._scene is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")

    def _loaded(self) -> GenesisScene:
        s = self._scene
        if s is None:
            raise SimError("E_SIM_NO_SCENE", "no scene loaded: send load_scene first")
        return s

    # ------------------------------------------------------------------ stepping
    def reset(self) -> None:
        s = self._loaded()
        self._call(self._reset, s)

    def _reset(self, s: GenesisScene) -> None:
        s.scene.reset()
        s.scene.sim.__setstate__(s.initial)
        s.ctrl = np.zeros(len(s.actuators))
        s.apply_ctrl()
        s.time = 0.0
        self._motion = Motion()

    def step(self, n: int) -> None:
        s = self._loaded()
        self._call(self._step, s, n)

    def _step(self, s: GenesisScene, n: int) -> None:
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
    def prepare(self, action: dict[str, Any]) -> PreparedAction:
        s = self._loaded()
        kind = action.get("kind")
        if kind == "twist":
            if s.drive is None:
                raise SimError("E_SIM_NO_BASE", f"scene {s.id} has no base that a twist drives")
            v = vector(action, "linear")[0]
            wz = vector(action, "angular")[2]
            left, right = s.actuator_for(s.drive.left), s.actuator_for(s.drive.right)
            speeds = dict(zip((left, right), s.drive.wheel_speeds(v, wz), strict=True))
            return PreparedAction("twist", frozenset(speeds), lambda: self._call(s.set, speeds))
        if kind == "joints":
            names, targets = joint_targets(action)
            values: dict[int, float] = {}
            for i, name in enumerate(names):
                a = s.actuator_for(name)
                # Several lists for one joint: the last (velocity, then effort) is what the actuator gets.
                for field_values in targets.values():
                    values[a] = field_values[i]
            return PreparedAction("joints", frozenset(values), lambda: self._call(s.set, values))
        if kind == "freeze":
            return PreparedAction("freeze", frozenset(range(len(s.actuators))), lambda: self._call(s.freeze))
        raise SimError("E_VALIDATION", f"unknown action kind {kind!r}: expected twist, joints or freeze", field="kind")

    def stop_motion(self) -> None:
        s = self._scene
        if s is None or not self.moving():
            return
        if self._loading:
            # Genesis is building another scene on its thread: stop once it is done (it steps nothing meanwhile).
            self._stop_after_load = True
            return
        self._call(s.set, {a.index: 0.0 for a in s.actuators if not a.holds_position})

    def moving(self) -> bool:
        s = self._scene
        if s is None:
            return False
        return s.moving()

    def motion(self) -> Motion:
        s = self._scene
        if s is None or self._loading:
            return self._motion
        self._motion = self._call(genesis_state.motion, s)
        return self._motion

    # ------------------------------------------------------------------ state and snapshots
    def state(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(genesis_state.state, s)

    def snapshot(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(genesis_checkpoint.snapshot, s, self.engine)

    def restore(self, snapshot: dict[str, Any]) -> None:
        s = self._loaded()
        arrays = genesis_checkpoint.open_snapshot(s, self.engine, snapshot)
        self._call(genesis_checkpoint.restore, s, arrays)

    def poses(self) -> dict[str, Any]:
        s = self._loaded()
        return self._call(genesis_state.pose_snapshot, s, self.engine)

    # ------------------------------------------------------------------ camera
    def render(
        self, camera: str | None, width: int, height: int, options: RenderOptions | None = None
    ) -> Future[np.ndarray]:
        """Renders on the Genesis thread (between steps: Genesis renders where it simulates). Its
        renderer decides shadows, reflections and anti-aliasing itself: only the format and stamp apply."""
        s = self._loaded()
        self.check_camera(camera, width, height)
        return self._thread.submit(lambda: picture(s.render(camera, width, height), options or RenderOptions()))

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        self._loaded().check_camera(camera)

    def render_threads(self) -> frozenset[int]:
        # The Genesis thread steps and renders both: its CPU counts as the loop's.
        return frozenset()

    def describe_scene(self) -> None:
        return None  # not written for Genesis's scene yet: the sidecar says so

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A build still compiling is left to the process's exit: waiting for it could take minutes.
        self._thread.shutdown(wait=False, cancel_futures=True)


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
