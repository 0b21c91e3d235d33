"""The scene description (scene_description.py): what the page's 3D view draws in server mode."""

import base64
import unittest

import mujoco
import numpy as np

from telekit_sim.mujoco_backend import MujocoBackend
from telekit_sim.scene_description import describe_scene

SHAPES = """<mujoco>
  <asset>
    <mesh name="tet" vertex="0 0 0  0.2 0 0  0 0.2 0  0 0 0.2"/>
    <texture name="checker" type="2d" builtin="checker" width="8" height="8"/>
    <material name="floor" texture="checker" texrepeat="2 3" texuniform="true"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="1 1 0.1" material="floor"/>
    <light pos="0 0 2" dir="0 0 -1" directional="true"/>
    <body name="thing" pos="0.5 0 0.3" quat="0 0 0 1">
      <freejoint/>
      <geom name="tet" type="mesh" mesh="tet" rgba="1 0 0 1"/>
      <body pos="0 0 0.2"><geom type="capsule" size="0.05 0.1" group="3"/></body>
    </body>
  </worldbody>
</mujoco>"""


class SceneDescriptionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model = mujoco.MjModel.from_xml_string(SHAPES)
        self.d = describe_scene(self.model, "shapes", lambda b: f"body_{b}")

    def test_bodies_geoms_and_their_frames(self) -> None:
        d = self.d
        self.assertEqual([b["name"] for b in d["bodies"]], ["world", "body_1", "body_2"])
        self.assertEqual([b["parent"] for b in d["bodies"]], [0, 0, 1])
        self.assertEqual(d["bodies"][1]["pos"], [0.5, 0.0, 0.3])
        self.assertEqual(d["bodies"][1]["quat"], [0.0, 0.0, 0.0, 1.0])
        self.assertEqual([g["type"] for g in d["geoms"]], ["plane", "mesh", "capsule"])
        self.assertEqual([g["mesh"] for g in d["geoms"]], [-1, 0, -1])
        self.assertEqual(d["geoms"][2]["group"], 3)
        self.assertEqual(d["geoms"][1]["rgba"], [1.0, 0.0, 0.0, 1.0])

    def test_meshes_as_little_endian_float32_and_uint32(self) -> None:
        mesh = self.d["meshes"][0]
        vertices = np.frombuffer(base64.b64decode(mesh["vertices"]), "<f4").reshape(-1, 3)
        faces = np.frombuffer(base64.b64decode(mesh["faces"]), "<u4").reshape(-1, 3)
        self.assertEqual(vertices.shape, (4, 3))
        self.assertEqual(faces.shape, (4, 3))
        np.testing.assert_allclose(vertices, self.model.mesh_vert, atol=1e-6)

    def test_materials_textures_lights_and_the_free_camera(self) -> None:
        d = self.d
        self.assertEqual(d["materials"][0]["texrepeat"], [2.0, 3.0])
        self.assertTrue(d["materials"][0]["texuniform"])
        texture = d["textures"][d["materials"][0]["texture"]]
        self.assertEqual((texture["width"], texture["height"], texture["channels"]), (8, 8, 3))
        self.assertEqual(len(base64.b64decode(texture["data"])), 8 * 8 * 3)
        self.assertEqual(d["lights"][0]["type"], "directional")
        self.assertEqual(d["view"]["fovy"], 45.0)

    def test_the_backend_names_bodies_as_its_state_does(self) -> None:
        backend = MujocoBackend()
        try:
            backend.load({"id": "shapes", "mjcf": SHAPES})
            described = backend.describe_scene()
            state = backend.state()
            self.assertEqual([b["name"] for b in described["bodies"][1:]], [b["name"] for b in state["bodies"]])
            self.assertEqual(described["scene"], "shapes")
        finally:
            backend.close()


if __name__ == "__main__":
    unittest.main()
