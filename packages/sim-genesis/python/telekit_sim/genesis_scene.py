"""A built Genesis scene, what the sidecar knows about it, and what is done to it directly: driving
its actuators (MuJoCo's control inputs as Genesis position targets, see `genesis_backend.py`),
freezing them, and rendering its cameras.

Those that call into Genesis (`apply_ctrl`, `set`, `freeze`, `render`) run on the Genesis thread only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import SimError
from .scene_model import Actuator, Drive


def rotation(q: np.ndarray) -> np.ndarray:
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
class GenesisScene:
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

    def describe(self, engine: str) -> dict[str, Any]:
        """What `load_scene` answers."""
        return {
            "id": self.id,
            "timestep": self.timestep,
            "bodies": [name for _, name in self.links],
            "joints": [name for name, _, _ in self.joints],
            "actuators": [a.name for a in self.actuators],
            "cameras": list(self.camera_names),
            "hasBase": self.drive is not None,
            "engine": engine,
        }

    # ------------------------------------------------------------------ actuators
    def actuator_for(self, name: str) -> int:
        """The index of the actuator named `name`, or else of the one driving the joint `name`."""
        for a in self.actuators:
            if a.name == name:
                return a.index
        for a in self.actuators:
            if a.joint == name:
                return a.index
        names = ", ".join(n for n, _, _ in self.joints) or "no actuated joints"
        raise SimError("E_UNKNOWN_JOINT", f"unknown joint {name}: scene {self.id} has {names}", field=name)

    def apply_ctrl(self) -> None:
        """Drives every actuated joint with its actuator's control input (see `genesis_backend.py`'s doc)."""
        if not self.dof:
            return
        indices = sorted(self.dof)
        self.entity.control_dofs_position(
            np.array([self.ctrl[a] for a in indices], dtype=np.float64), [self.dof[a] for a in indices]
        )

    def set(self, values: dict[int, float]) -> None:
        """Sets some actuators' control inputs (clamped to their `ctrlrange`) and drives them."""
        for a, value in values.items():
            self.ctrl[a] = self.actuators[a].clamp(value)
        self.apply_ctrl()

    def freeze(self) -> None:
        # Position servos hold where they are; everything else goes to zero.
        q = self.entity.get_dofs_position().cpu().numpy()
        for a in self.actuators:
            self.ctrl[a.index] = float(q[self.dof[a.index]]) if a.holds_position and a.index in self.dof else 0.0
        self.apply_ctrl()

    def moving(self) -> bool:
        """Some velocity or effort target is not zero (reads no Genesis state: any thread)."""
        return any(self.ctrl[a.index] != 0.0 for a in self.actuators if not a.holds_position)

    # ------------------------------------------------------------------ cameras
    def check_camera(self, camera: str | None) -> None:
        """Raises `E_SIM_CAMERA` for a camera the scene does not have (reads no Genesis state: any thread)."""
        if camera and camera not in self.cameras:
            names = ", ".join(self.camera_names) or "none"
            raise SimError("E_SIM_CAMERA", f"no camera {camera} in scene {self.id} (it has: {names})", field="camera")

    def render(self, camera: str | None, width: int, height: int) -> np.ndarray:
        cam = self.cameras[camera] if camera else self.free_camera
        if camera in self.attached:
            cam.move_to_attach()
        rgb = np.asarray(cam.render()[0])
        if rgb.shape[0] != height or rgb.shape[1] != width:
            # The camera's resolution is fixed when the scene is built: sample it to the size asked for.
            rows = (np.arange(height) * rgb.shape[0] // height).clip(0, rgb.shape[0] - 1)
            cols = (np.arange(width) * rgb.shape[1] // width).clip(0, rgb.shape[1] - 1)
            rgb = rgb[rows][:, cols]
        return rgb
