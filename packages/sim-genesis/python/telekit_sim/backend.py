"""What the sidecar needs from a physics engine, and the shape of an action ready to apply.

An action is checked when it arrives (`Backend.prepare`, which raises `SimError` for anything the
scene cannot do) and applied later, at the step that uses it (`PreparedAction.apply`), so that its
deadline is judged where it acts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .errors import SimError


@dataclass(frozen=True)
class RenderOptions:
    """How a camera renders. The defaults are the cheap ones: a software renderer pays for each."""

    #: `rgb` (3 bytes a pixel, what the encoder reads) or `rgba`.
    format: str = "rgb"
    #: Multisample anti-aliasing samples (0: none). On llvmpipe, 4 samples roughly double the cost.
    samples: int = 0
    shadows: bool = False
    reflections: bool = False
    #: Draw this time (ms, Node's clock) into the picture's top-left corner; None: no stamp.
    stamp_ms: float | None = None

    @property
    def channels(self) -> int:
        return 4 if self.format == "rgba" else 3


def picture(rgb: np.ndarray, options: RenderOptions) -> np.ndarray:
    """`rgb` (height, width, 3, a fresh array from the renderer) in the options' format, stamped.

    For `rgb` that is `rgb` itself, stamped in place: no copy of the picture on the way out.
    """
    from .stamp import stamp_in_place

    if options.format == "rgba":
        out = np.empty((rgb.shape[0], rgb.shape[1], 4), dtype=np.uint8)
        out[..., :3] = rgb
        out[..., 3] = 255
    else:
        out = np.ascontiguousarray(rgb, dtype=np.uint8)
    if options.stamp_ms is not None:
        stamp_in_place(out, options.stamp_ms)
    return out


@dataclass(frozen=True)
class PreparedAction:
    """A checked action: what it drives (`targets`, actuator ids) and how to apply it."""

    kind: str
    targets: frozenset[Hashable]
    apply: Callable[[], None]

    def covers(self, other: PreparedAction) -> bool:
        """True when applying this one makes `other` pointless: it drives every actuator `other` drives."""
        return other.targets <= self.targets


@dataclass(frozen=True)
class Motion:
    """How fast the robot moves right now: the speed and yaw rate its wheels drive the base at
    (odometry, m/s and rad/s), the fastest named joint (rad/s or m/s), and the base's own speed over
    the ground (m/s) and position (m)."""

    linear: float = 0.0
    angular: float = 0.0
    joint: float = 0.0
    travel: float = 0.0
    x: float = 0.0
    y: float = 0.0

    def at_rest(self, tolerance: float = 0.05) -> bool:
        return max(self.linear, self.angular, self.joint) < tolerance


#: Reports a step of a scene load as it starts: `(phase, message)`, e.g. `("build", "compiling Genesis
#: kernels, first run: about 2–3 min")`. May be called from any thread.
Progress = Callable[[str, str], None]


def no_progress(phase: str, message: str) -> None:
    """A `Progress` that reports nothing."""


class Backend(Protocol):
    """A physics engine behind the sidecar (MuJoCo, Genesis)."""

    name: str
    engine: str
    capabilities: dict[str, bool]
    #: Whether `load` may run in a worker thread (so that pings are answered meanwhile).
    load_in_thread: bool
    #: Whether it renders on its physics thread (Genesis), so that a frame stops the physics while
    #: it renders; otherwise rendering runs beside the physics (MuJoCo's GL thread).
    renders_on_physics_thread: bool

    def load(self, scene: dict[str, Any], progress: Progress = no_progress) -> dict[str, Any]:
        """Loads a scene and makes it the running one, or raises `SimError` and leaves the running
        scene as it was (a load is a transaction). Reports its steps on `progress` as they start; a
        backend that compiles (Genesis) reports that it does, and for how long it may."""
        ...

    def require_scene(self) -> None: ...
    def reset(self) -> None: ...
    def step(self, n: int) -> None: ...
    @property
    def time(self) -> float: ...
    @property
    def timestep(self) -> float: ...
    def prepare(self, action: dict[str, Any]) -> PreparedAction: ...
    def stop_motion(self) -> None:
        """Zeroes every velocity and effort target (the wheels included); position targets stay."""
        ...

    def moving(self) -> bool:
        """True when some velocity or effort target is not zero (the robot is being driven)."""
        ...

    def motion(self) -> Motion: ...
    def state(self) -> dict[str, Any]: ...
    def snapshot(self) -> dict[str, Any]:
        """The full state, restorable into this engine only: `{scene, engine, time, data: bytes}`."""
        ...

    def restore(self, snapshot: dict[str, Any]) -> None: ...
    def poses(self) -> dict[str, Any]:
        """The state any engine can take (the pose snapshot of CONVENTIONS.md beside the scenes): every body's pose and velocity
        and every hinge and slide joint's position and velocity, as `{scene, engine, time, data: bytes}`."""
        ...

    def render(
        self, camera: str | None, width: int, height: int, options: RenderOptions | None = None
    ) -> Future[np.ndarray]:
        """Renders the scene as it is now: a (height, width, 3 or 4) uint8 array, rows top to bottom,
        with the stamp drawn in when `options.stamp_ms` is given; may finish on another thread."""
        ...

    def check_camera(self, camera: str | None, width: int, height: int) -> None:
        """Raises `SimError` (`E_SIM_CAMERA`) for a camera the scene cannot render, without rendering."""
        ...

    def render_threads(self) -> frozenset[int]:
        """The native ids of the threads that render (the CPU the sidecar reports as render)."""
        ...

    def describe_scene(self) -> dict[str, Any] | None:
        """What the running scene looks like (`scene_description.py`), or None for an engine that
        cannot say (the sidecar then answers `E_SIM_BACKEND`)."""
        ...

    def close(self) -> None: ...


def finite(value: Any, field: str) -> float:
    """`value` as a finite float, or a `SimError` naming `field` (NaN must never reach an actuator)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimError("E_VALIDATION", f"{field} must be a number, got {type(value).__name__}", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise SimError("E_VALIDATION", f"{field} must be finite, got {number}", field=field)
    return number


def vector(action: Mapping[str, Any], key: str) -> tuple[float, float, float]:
    """`action[key]` as an `{x, y, z}` map of finite numbers (missing components are 0)."""
    raw = action.get(key, {})
    if not isinstance(raw, Mapping):
        raise SimError("E_VALIDATION", f"{key} must be a map with x, y, z", field=key)
    return (
        finite(raw.get("x", 0.0), f"{key}.x"),
        finite(raw.get("y", 0.0), f"{key}.y"),
        finite(raw.get("z", 0.0), f"{key}.z"),
    )


def joint_targets(action: Mapping[str, Any]) -> tuple[list[str], dict[str, list[float]]]:
    """The names of a `joints` action and its target lists (position, velocity, effort), one value per name."""
    names = action.get("name")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SimError("E_VALIDATION", "name must be a list of joint names", field="name")
    targets: dict[str, list[float]] = {}
    for field in ("position", "velocity", "effort"):
        values = action.get(field)
        if values is None:
            continue
        if not isinstance(values, list) or len(values) != len(names):
            raise SimError("E_VALIDATION", f"{field} must be a list of {len(names)} numbers, one per name", field=field)
        targets[field] = [finite(v, f"{field}[{i}]") for i, v in enumerate(values)]
    return names, targets
