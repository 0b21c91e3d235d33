"""What a scene looks like, from its compiled MuJoCo model: core's `/telemetry/sim_scene` (`SimScene`).

The page's 3D view (`buildMujocoScene` in `@telekit/ui-widgets`) draws it as it draws the MuJoCo
model it simulates itself in browser mode: the same fields, read from the same kind of model.

- bodies: name (as the state names them), parent index, pose in the parent at rest (`body_pos`, `body_quat`);
- geoms: MuJoCo's type name, `geom_size`, pose in the body, `geom_rgba`, group, mesh and material indices;
- meshes: `mesh_vert` as float32 and `mesh_face` as uint32, little-endian, base64 (in the geom's frame);
- materials and their colour textures (RGB role), textures as bytes per pixel, base64;
- lights in their bodies; the free camera (`vis.global_` fovy/azimuth/elevation, `stat` extent/center)
  and the headlight (`vis.headlight`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np

GEOM_TYPES = ("plane", "hfield", "sphere", "capsule", "ellipsoid", "cylinder", "box", "mesh", "sdf")
LIGHT_TYPES = ("spot", "directional", "point", "image")
#: `mjtTextureRole.mjTEXROLE_RGB`: the colour texture among a material's texture slots.
TEXROLE_RGB = 1


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def describe_scene(model: Any, scene: str, body_name: Callable[[int], str]) -> dict[str, Any]:
    """The scene description of a compiled `mujoco.MjModel` (without the message header).

    `body_name(b)` names body `b` as the simulator's state does (so poses find their bodies)."""
    m = model
    bodies = [
        {
            "name": "world" if b == 0 else body_name(b),
            "parent": int(m.body_parentid[b]),
            "pos": _floats(m.body_pos[b]),
            "quat": _floats(m.body_quat[b]),
        }
        for b in range(m.nbody)
    ]
    geoms = []
    for g in range(m.ngeom):
        kind = int(m.geom_type[g])
        geoms.append(
            {
                "name": mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) or f"geom_{g}",
                "body": int(m.geom_bodyid[g]),
                "type": GEOM_TYPES[kind] if kind < len(GEOM_TYPES) else "sdf",
                "size": _floats(m.geom_size[g]),
                "pos": _floats(m.geom_pos[g]),
                "quat": _floats(m.geom_quat[g]),
                "rgba": _floats(m.geom_rgba[g]),
                "group": int(m.geom_group[g]),
                "mesh": int(m.geom_dataid[g]) if kind == int(mujoco.mjtGeom.mjGEOM_MESH) else -1,
                "material": int(m.geom_matid[g]),
            }
        )
    meshes = []
    for i in range(m.nmesh):
        v0, nv = int(m.mesh_vertadr[i]), int(m.mesh_vertnum[i])
        f0, nf = int(m.mesh_faceadr[i]), int(m.mesh_facenum[i])
        meshes.append(
            {
                "vertices": _b64(m.mesh_vert[v0 : v0 + nv], "<f4"),
                "faces": _b64(m.mesh_face[f0 : f0 + nf], "<u4"),
            }
        )
    texid = np.asarray(m.mat_texid).reshape(m.nmat, -1) if m.nmat else np.zeros((0, 1), int)
    materials = [
        {
            "rgba": _floats(m.mat_rgba[i]),
            "texture": int(texid[i][TEXROLE_RGB if texid.shape[1] > TEXROLE_RGB else 0]),
            "texrepeat": _floats(m.mat_texrepeat[i]),
            "texuniform": bool(m.mat_texuniform[i]),
        }
        for i in range(m.nmat)
    ]
    textures = []
    for t in range(m.ntex):
        w, h, n, adr = int(m.tex_width[t]), int(m.tex_height[t]), int(m.tex_nchannel[t]), int(m.tex_adr[t])
        textures.append({"width": w, "height": h, "channels": n, "data": _b64(m.tex_data[adr : adr + w * h * n], "u1")})
    lights = []
    for i in range(m.nlight):
        kind = int(m.light_type[i])
        lights.append(
            {
                "body": int(m.light_bodyid[i]),
                "type": LIGHT_TYPES[kind] if kind < len(LIGHT_TYPES) else "point",
                "pos": _floats(m.light_pos[i]),
                "dir": _floats(m.light_dir[i]),
                "diffuse": _floats(m.light_diffuse[i]),
                "active": bool(m.light_active[i]),
            }
        )
    return {
        "scene": scene,
        "bodies": bodies,
        "geoms": geoms,
        "meshes": meshes,
        "materials": materials,
        "textures": textures,
        "lights": lights,
        "view": {
            "fovy": float(m.vis.global_.fovy),
            "azimuth": float(m.vis.global_.azimuth),
            "elevation": float(m.vis.global_.elevation),
            "extent": float(m.stat.extent),
            "center": _floats(m.stat.center),
            "headlight": {
                "ambient": _floats(m.vis.headlight.ambient),
                "diffuse": _floats(m.vis.headlight.diffuse),
                "active": bool(m.vis.headlight.active),
            },
        },
    }
