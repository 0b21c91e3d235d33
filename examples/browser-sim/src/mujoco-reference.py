"""MuJoCo's own picture of a scene, for the 3D view's silhouette test (silhouette.test.ts).

Reads a JSON request on stdin: {"scene": path, "root": body, "width", "height", "camera": {"lookat",
"distance", "azimuth", "elevation"}, "ctrl": [...] | null, "steps": n, "qpos": {joint: value}}. Loads the
scene with MuJoCo, poses it (joint values, then `steps` steps with `ctrl`), renders it with MuJoCo's
offscreen renderer (MUJOCO_GL=osmesa) from that free camera — once in colour, once segmented (geom ids)
— and writes to the directory named by argv[1]:

- scene.json: the scene description (telekit_sim.scene_description, what the sidecar publishes), the
  bodies' world poses, and the robot's geoms (those of `root`'s subtree);
- rgb.bin: height × width × 3 bytes, top row first; mask.bin: height × width bytes, 1 where the
  segmentation shows a geom of the robot.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("MUJOCO_GL", "osmesa")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from telekit_sim.scene_description import describe_scene  # noqa: E402


def main() -> None:
    out = sys.argv[1]
    request = json.load(sys.stdin)
    model = mujoco.MjModel.from_xml_path(request["scene"])
    width, height = int(request["width"]), int(request["height"])
    model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), width)
    model.vis.global_.offheight = max(int(model.vis.global_.offheight), height)
    data = mujoco.MjData(model)
    for joint, value in (request.get("qpos") or {}).items():
        j = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, joint)
        data.qpos[model.jnt_qposadr[j]] = value
    if request.get("ctrl"):
        data.ctrl[:] = request["ctrl"]
    for _ in range(int(request.get("steps", 0))):
        mujoco.mj_step(model, data)
    mujoco.mj_forward(model, data)

    name = lambda b: mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or f"body_{b}"  # noqa: E731
    root = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, request["root"])
    in_robot = [b == root for b in range(model.nbody)]
    for b in range(1, model.nbody):
        in_robot[b] = in_robot[b] or in_robot[int(model.body_parentid[b])]
    robot_geoms = [g for g in range(model.ngeom) if in_robot[int(model.geom_bodyid[g])]]

    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.lookat[:] = request["camera"]["lookat"]
    camera.distance = request["camera"]["distance"]
    camera.azimuth = request["camera"]["azimuth"]
    camera.elevation = request["camera"]["elevation"]

    with mujoco.Renderer(model, height, width) as renderer:
        renderer.update_scene(data, camera)
        rgb = renderer.render()
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera)
        seg = renderer.render()
    geom = seg[:, :, 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
    mask = geom & np.isin(seg[:, :, 0], robot_geoms)

    description = describe_scene(model, os.path.basename(request["scene"]), name)
    poses = [
        {
            "name": name(b),
            "position": dict(zip("xyz", data.xpos[b].tolist(), strict=True)),
            "orientation": dict(zip("wxyz", data.xquat[b].tolist(), strict=True)),
        }
        for b in range(1, model.nbody)
    ]
    with open(os.path.join(out, "scene.json"), "w") as f:
        json.dump({"description": description, "poses": poses, "robotGeoms": robot_geoms}, f)
    np.ascontiguousarray(rgb, dtype=np.uint8).tofile(os.path.join(out, "rgb.bin"))
    np.ascontiguousarray(mask, dtype=np.uint8).tofile(os.path.join(out, "mask.bin"))


if __name__ == "__main__":
    main()
