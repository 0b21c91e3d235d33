"""What a scene declares, read with MuJoCo's compiler for every backend (CONVENTIONS.md beside the scenes).

Both backends load the same MJCF. MuJoCo's compiler reads it first, whichever engine then simulates it:
a malformed file fails here with its file and line, and the scene's drive (the `telekit_*` custom
fields), its actuators and its cameras are read the same way for MuJoCo and Genesis.

- A **drive** turns a twist into wheel speeds: `left = (v - w * separation / 2) / radius`,
  `right = (v + w * separation / 2) / radius` (rad/s), the left wheel on the base's +y side, a
  positive wheel speed driving the base forward (+x).
- A value sent to a joint is its **actuator's control input** (MuJoCo's `ctrl`): a position for a
  position servo, a velocity for a velocity servo, a force or torque for a motor, clamped to the
  actuator's `ctrlrange`. Wheel speeds are the wheel actuators' control inputs.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

os.environ.setdefault("MUJOCO_GL", "osmesa")

import mujoco  # noqa: E402  (MUJOCO_GL must be set first)

from .errors import SimError  # noqa: E402

BUNDLED = {"diff-drive": "diff_drive.xml", "arm": "arm.xml"}


def bundled_path(name: str) -> str:
    """The file of a bundled scene, or `E_SIM_SCENE` naming the scenes there are."""
    file = BUNDLED.get(name)
    if file is None:
        raise SimError("E_SIM_SCENE", f"unknown scene {name}; bundled scenes: {', '.join(sorted(BUNDLED))}", file=name)
    return str(resources.files("telekit_sim") / "scenes" / file)


@dataclass(frozen=True)
class SceneSource:
    """Where a scene comes from: a file, inline MJCF, or a MuJoCo Menagerie robot."""

    id: str
    #: What errors name: the path as given, `<id> (inline MJCF)`, or `menagerie:<robot>`.
    label: str
    #: The MJCF file (a bundled scene's resolved), when the scene is a file.
    path: str | None = None
    #: The MJCF text, when given inline.
    mjcf: str | None = None
    #: `menagerie:<robot>[:<entry>]`, when the scene is a Menagerie robot.
    menagerie: str | None = None

    def key(self) -> str:
        """What identifies the content: the same key, the same model (a file that changed has another)."""
        digest = hashlib.sha256()
        if self.mjcf is not None:
            digest.update(self.mjcf.encode())
        elif self.path is not None:
            digest.update(self.path.encode())
            try:
                with open(self.path, "rb") as handle:
                    digest.update(handle.read())
            except OSError:
                pass
        else:
            digest.update(str(self.menagerie).encode())
        return digest.hexdigest()


def scene_source(scene: dict[str, Any]) -> SceneSource:
    """The source of a `load_scene` request's scene (`{id, mjcf?, path?}`); an unknown name fails here."""
    scene_id = str(scene.get("id") or "scene")
    if scene.get("mjcf") is not None:
        return SceneSource(scene_id, f"{scene_id} (inline MJCF)", mjcf=str(scene["mjcf"]))
    path = str(scene.get("path") or scene_id)
    if path.startswith("menagerie:"):
        return SceneSource(scene_id, path, menagerie=path)
    if not os.path.isabs(path) and not os.path.exists(path):
        return SceneSource(scene_id, path, path=bundled_path(path))
    return SceneSource(scene_id, path, path=path)


def _menagerie(source: str) -> Any:
    """`menagerie:<robot>[:<entry>]`: a robot from MuJoCo Menagerie (the mujoco-menagerie package,
    which fetches the robot's files on first use and caches them)."""
    _, robot, *entry = source.split(":")
    try:
        import mujoco_menagerie as mm
    except ImportError as error:
        raise SimError(
            "E_SIM_SCENE", "mujoco-menagerie is not installed: pip install mujoco-menagerie", file=source
        ) from error
    try:
        return mm.get(robot).model(entry[0]) if entry else mm.load(robot)
    except Exception as error:  # noqa: BLE001 - unknown robot, no network, …
        raise SimError("E_SIM_SCENE", f"cannot load {source}: {error}", file=source) from error


def _xml_error(error: Exception, label: str) -> SimError:
    text = str(error).strip()
    match = re.search(r"line (\d+)", text)
    first = text.splitlines()[0] if text else "could not load"
    return SimError(
        "E_SIM_SCENE", f"cannot load {label}: {first}", file=label, line=int(match.group(1)) if match else None
    )


def compile_model(source: SceneSource) -> mujoco.MjModel:
    """MuJoCo's model of the scene; a parse error is `E_SIM_SCENE` naming the file and the line."""
    try:
        if source.mjcf is not None:
            return mujoco.MjModel.from_xml_string(source.mjcf)
        if source.menagerie is not None:
            return _menagerie(source.menagerie)
        return mujoco.MjModel.from_xml_path(str(source.path))
    except SimError:
        raise
    except Exception as error:  # noqa: BLE001 - MuJoCo raises ValueError with the parser's message
        raise _xml_error(error, source.label) from error


def name_of(model: mujoco.MjModel, kind: mujoco.mjtObj, i: int) -> str:
    return mujoco.mj_id2name(model, kind, i) or f"{kind.name.lower()[6:]}_{i}"


@dataclass(frozen=True)
class Drive:
    """A differential-drive base, as the scene declares it (`telekit_*` custom fields)."""

    #: The body a twist moves (`telekit_base`, default `base`).
    base: str
    #: The wheel actuators (`telekit_wheels`: left, then right).
    left: str
    right: str
    #: Wheel radius and the distance between the wheels (`telekit_wheel_radius`, `telekit_wheel_separation`), m.
    radius: float
    separation: float

    def wheel_speeds(self, linear: float, angular: float) -> tuple[float, float]:
        """The wheels' speeds (rad/s) that drive the base at `linear` m/s and `angular` rad/s (counter-clockwise)."""
        half = self.separation / 2
        return (linear - angular * half) / self.radius, (linear + angular * half) / self.radius

    def odometry(self, left: float, right: float) -> tuple[float, float]:
        """What wheel speeds (rad/s) drive the base at: (m/s, rad/s)."""
        return self.radius * (left + right) / 2, self.radius * (right - left) / self.separation


def _texts(model: mujoco.MjModel) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(model.ntext):
        start, size = model.text_adr[i], model.text_size[i]
        out[name_of(model, mujoco.mjtObj.mjOBJ_TEXT, i)] = bytes(model.text_data[start : start + size - 1]).decode()
    return out


def read_drive(model: mujoco.MjModel, label: str) -> Drive | None:
    """The scene's drive, or None when it declares none; an incomplete declaration is `E_SIM_SCENE`."""
    texts = _texts(model)
    if "telekit_wheels" not in texts:
        return None

    def numeric(name: str) -> float:
        i = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_NUMERIC, name)
        if i < 0:
            raise SimError("E_SIM_SCENE", f"scene {label} declares wheels but no {name}", file=label)
        value = float(model.numeric_data[model.numeric_adr[i]])
        if not (math.isfinite(value) and value > 0):
            raise SimError(
                "E_SIM_SCENE", f"scene {label}: {name} must be a positive number of metres, got {value}", file=label
            )
        return value

    wheels = texts["telekit_wheels"].split()
    if len(wheels) != 2:
        raise SimError(
            "E_SIM_SCENE",
            f"scene {label}: telekit_wheels must name two actuators (left right), got {texts['telekit_wheels']!r}",
            file=label,
        )
    for wheel in wheels:
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, wheel) < 0:
            raise SimError(
                "E_SIM_SCENE", f"scene {label} names wheel actuator {wheel}, which it does not have", file=label
            )
    base = texts.get("telekit_base", "base")
    if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, base) < 0:
        raise SimError("E_SIM_SCENE", f"scene {label} declares wheels but its base body {base} is missing", file=label)
    return Drive(base, wheels[0], wheels[1], numeric("telekit_wheel_radius"), numeric("telekit_wheel_separation"))


ActuatorKind = Literal["position", "velocity", "motor", "other"]


@dataclass(frozen=True)
class Actuator:
    """One actuator: what it drives and how its control input acts."""

    index: int
    name: str
    #: The joint it drives (joint transmission), or None (a tendon, a site, …).
    joint: str | None
    #: `position` (a servo toward its input), `velocity` (a servo toward its input as a speed),
    #: `motor` (its input is a force or torque), `other`.
    kind: ActuatorKind
    #: force = gain * ctrl + bias[0] + bias[1] * position + bias[2] * velocity (MuJoCo's affine actuator).
    gain: float
    bias: tuple[float, float, float]
    #: The range its control input is clamped to, or None.
    ctrlrange: tuple[float, float] | None

    @property
    def holds_position(self) -> bool:
        """A position servo: frozen, it holds where it is; the others go to zero."""
        return self.kind == "position"

    def clamp(self, value: float) -> float:
        if self.ctrlrange is None:
            return value
        return min(max(value, self.ctrlrange[0]), self.ctrlrange[1])


def read_actuators(model: mujoco.MjModel) -> list[Actuator]:
    out: list[Actuator] = []
    for a in range(model.nu):
        joint: str | None = None
        if int(model.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT):
            joint = name_of(model, mujoco.mjtObj.mjOBJ_JOINT, int(model.actuator_trnid[a, 0]))
        gain = float(model.actuator_gainprm[a, 0])
        bias = (
            float(model.actuator_biasprm[a, 0]),
            float(model.actuator_biasprm[a, 1]),
            float(model.actuator_biasprm[a, 2]),
        )
        affine = int(model.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_AFFINE)
        fixed = int(model.actuator_gaintype[a]) == int(mujoco.mjtGain.mjGAIN_FIXED)
        kind: ActuatorKind = "other"
        if fixed and gain != 0 and affine and bias[1] != 0:
            kind = "position"
        elif fixed and gain != 0 and affine and bias[1] == 0 and bias[2] != 0:
            kind = "velocity"
        elif fixed and int(model.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_NONE):
            kind = "motor"
        limited = bool(model.actuator_ctrllimited[a])
        ctrlrange = (float(model.actuator_ctrlrange[a, 0]), float(model.actuator_ctrlrange[a, 1])) if limited else None
        out.append(Actuator(a, name_of(model, mujoco.mjtObj.mjOBJ_ACTUATOR, a), joint, kind, gain, bias, ctrlrange))
    return out


def wheel_joints(model: mujoco.MjModel, drive: Drive | None) -> frozenset[str]:
    """The joints the drive's wheel actuators turn (reported with the base, not as joints)."""
    if drive is None:
        return frozenset()
    names = set()
    for actuator in read_actuators(model):
        if actuator.name in (drive.left, drive.right) and actuator.joint is not None:
            names.add(actuator.joint)
    return frozenset(names)


def named_joints(model: mujoco.MjModel, drive: Drive | None) -> list[str]:
    """The joints a scene reports (hinges and slides): not free joints (bases) nor ball joints nor the wheels."""
    wheels = wheel_joints(model, drive)
    out = []
    for j in range(model.njnt):
        if int(model.jnt_type[j]) in (int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_BALL)):
            continue
        name = name_of(model, mujoco.mjtObj.mjOBJ_JOINT, j)
        if name not in wheels:
            out.append(name)
    return out


@dataclass(frozen=True)
class CameraSpec:
    """A camera the scene declares: its body (`world` for a fixed one), pose in that body, vertical field of view."""

    name: str
    body: str
    pos: tuple[float, float, float]
    #: Orientation in the body, (w, x, y, z); the camera looks along its -z axis with +y up.
    quat: tuple[float, float, float, float]
    fovy: float


def read_cameras(model: mujoco.MjModel) -> list[CameraSpec]:
    out = []
    for c in range(model.ncam):
        body = int(model.cam_bodyid[c])
        out.append(
            CameraSpec(
                name_of(model, mujoco.mjtObj.mjOBJ_CAMERA, c),
                "world" if body == 0 else name_of(model, mujoco.mjtObj.mjOBJ_BODY, body),
                tuple(float(v) for v in model.cam_pos[c]),  # type: ignore[arg-type]
                tuple(float(v) for v in model.cam_quat[c]),  # type: ignore[arg-type]
                float(model.cam_fovy[c]),
            )
        )
    return out
