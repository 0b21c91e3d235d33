"""Building a Genesis scene from an MJCF file and what MuJoCo's compiler read of it (`scene_model`):
the simulation options as MuJoCo's, the robot as one `gs.morphs.MJCF` entity, its cameras (fixed or
attached to a link) and a free one, then the indices the sidecar drives and reads it by.

Runs on the Genesis thread, once Genesis has started (`genesis_backend.py`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import SimError
from .genesis_scene import GenesisScene, rotation
from .scene_model import Actuator, CameraSpec, Drive, SceneSource, named_joints

#: The camera resolution Genesis renders at (a camera's resolution is fixed when the scene is built);
#: other sizes are sampled from it.
CAMERA_RES = (640, 480)
#: Where the free camera (no camera named) stands and looks.
FREE_CAMERA = {"pos": (-2.0, -2.0, 1.6), "lookat": (0.0, 0.0, 0.0), "fov": 50.0}


def build_scene(
    source: SceneSource,
    model: Any,
    path: str,
    drive: Drive | None,
    actuators: list[Actuator],
    cameras: list[CameraSpec],
    shadows: bool,
) -> GenesisScene:
    """Builds the scene of `path` (compiling Genesis's kernels) and indexes it. `shadows`: whether
    the cameras draw shadows."""
    import genesis as gs
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
        vis_options=gs.options.VisOptions(shadow=shadows, plane_reflection=False),
        show_viewer=False,
    )
    entity = scene.add_entity(gs.morphs.MJCF(file=path))
    camera_objects, attached_specs = _add_cameras(scene, cameras)
    free_camera = scene.add_camera(
        res=CAMERA_RES, pos=FREE_CAMERA["pos"], lookat=FREE_CAMERA["lookat"], fov=FREE_CAMERA["fov"], GUI=False
    )
    scene.build()
    links = [(i, link.name) for i, link in enumerate(entity.links) if not (i == 0 and link.name == "world")]
    link_index = {name: i for i, name in links}
    all_joints, joints, dof = _index_joints(gs, entity, model, drive, actuators)
    attached = {}
    for name, spec in attached_specs.items():
        if spec.body not in link_index:
            raise SimError(
                "E_SIM_SCENE",
                f"camera {name} is attached to body {spec.body}, which Genesis merged away",
                file=source.label,
            )
        pose = np.eye(4)
        pose[:3, :3] = rotation(np.array(spec.quat))
        pose[:3, 3] = spec.pos
        attached[name] = (link_index[spec.body], pose)
        camera_objects[name].attach(entity.links[link_index[spec.body]], pose)
    made = GenesisScene(
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
        imu_link=imu_link(model, link_index),
        gravity=gravity,
        ctrl=np.zeros(len(actuators)),
    )
    made.initial = scene.sim.__getstate__()
    return made


def _add_cameras(scene: Any, cameras: list[CameraSpec]) -> tuple[dict[str, Any], dict[str, CameraSpec]]:
    """Adds the scene's cameras (before it is built): the fixed ones where they stand, the attached
    ones anywhere (they are attached to their link once it is built). Returns every camera by name,
    and the specs of those to attach."""
    camera_objects: dict[str, Any] = {}
    attached_specs: dict[str, CameraSpec] = {}
    for spec in cameras:
        rot = rotation(np.array(spec.quat))
        if spec.body == "world":
            pos = np.array(spec.pos)
            camera_objects[spec.name] = scene.add_camera(
                res=CAMERA_RES,
                pos=tuple(pos),
                # MuJoCo's cameras look along their -z axis, +y up.
                lookat=tuple(pos - rot[:, 2]),
                up=tuple(rot[:, 1]),
                fov=spec.fovy,
                GUI=False,
            )
        else:
            camera_objects[spec.name] = scene.add_camera(
                res=CAMERA_RES, pos=(0.0, 0.0, 1.0), lookat=(1.0, 0.0, 1.0), fov=spec.fovy, GUI=False
            )
            attached_specs[spec.name] = spec
    return camera_objects, attached_specs


def _index_joints(
    gs: Any, entity: Any, model: Any, drive: Drive | None, actuators: list[Actuator]
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]], dict[int, int]]:
    """Every hinge and slide joint of the built entity (name, local q index, local dof index), those
    of them reported in the state, and the local dof index of each actuator's joint."""
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
    return all_joints, joints, dof


def imu_link(model: Any, link_index: dict[str, int]) -> int | None:
    """The link MuJoCo's IMU sensors (`imu_orientation`, `imu_gyro`, `imu_accel`) sit on, if the scene has all three."""
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
