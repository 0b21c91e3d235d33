"""The scene conventions every backend reads the same way (scene_model.py, CONVENTIONS.md), and a
scene load as a transaction on the MuJoCo backend."""

import json
import math
import unittest

from telekit_sim import poses
from telekit_sim.errors import SimError
from telekit_sim.mujoco_backend import MujocoBackend
from telekit_sim.scene_model import compile_model, named_joints, read_actuators, read_drive, scene_source

DRIVE = """<mujoco>
  <custom>
    <numeric name="telekit_wheel_radius" data="0.1"/>
    <numeric name="telekit_wheel_separation" data="0.5"/>
    <text name="telekit_base" data="chassis"/>
    <text name="telekit_wheels" data="l r"/>
  </custom>
  <worldbody>
    <body name="chassis"><freejoint name="free"/><geom size="0.1"/>
      <body name="lw" pos="0 0.3 0"><joint name="lj" axis="0 1 0"/><geom size="0.05" contype="0" conaffinity="0"/></body>
      <body name="rw" pos="0 -0.3 0"><joint name="rj" axis="0 1 0"/><geom size="0.05" contype="0" conaffinity="0"/></body>
      <body name="arm" pos="0 0 0.3"><joint name="pan" axis="0 0 1"/><geom size="0.05" contype="0" conaffinity="0"/></body>
    </body>
  </worldbody>
  <actuator>
    <velocity name="l" joint="lj" kv="2" ctrlrange="-5 5"/>
    <velocity name="r" joint="rj" kv="2"/>
    <position name="pan" joint="pan" kp="10"/>
    <motor name="push" joint="pan" gear="2"/>
  </actuator>
</mujoco>"""


def model(text: str):
    return compile_model(scene_source({"id": "t", "mjcf": text}))


class DriveTest(unittest.TestCase):
    def test_the_declared_drive(self) -> None:
        drive = read_drive(model(DRIVE), "t")
        assert drive is not None
        self.assertEqual(
            (drive.base, drive.left, drive.right, drive.radius, drive.separation), ("chassis", "l", "r", 0.1, 0.5)
        )

    def test_twist_to_wheel_speeds_and_back(self) -> None:
        drive = read_drive(model(DRIVE), "t")
        assert drive is not None
        # Forward: both wheels at v / r; a counter-clockwise turn: the right (−y… +y is left) wheel faster.
        self.assertEqual(drive.wheel_speeds(1.0, 0.0), (10.0, 10.0))
        left, right = drive.wheel_speeds(0.0, 2.0)
        self.assertAlmostEqual(left, -5.0)
        self.assertAlmostEqual(right, 5.0)
        for v, w in ((0.3, 0.0), (0.0, 0.8), (-0.2, 1.5)):
            back = drive.odometry(*drive.wheel_speeds(v, w))
            self.assertAlmostEqual(back[0], v)
            self.assertAlmostEqual(back[1], w)

    def test_a_scene_without_the_fields_has_no_drive(self) -> None:
        self.assertIsNone(read_drive(model("<mujoco><worldbody><geom size='1'/></worldbody></mujoco>"), "t"))

    def test_an_incomplete_declaration_names_what_is_missing(self) -> None:
        for broken, missing in (
            (DRIVE.replace('<numeric name="telekit_wheel_radius" data="0.1"/>', ""), "telekit_wheel_radius"),
            (DRIVE.replace('data="l r"', 'data="l nope"'), "nope"),
            (DRIVE.replace('data="chassis"', 'data="hull"'), "hull"),
            (DRIVE.replace('data="0.5"', 'data="-1"'), "telekit_wheel_separation"),
        ):
            with self.subTest(missing=missing), self.assertRaises(SimError) as caught:
                read_drive(model(broken), "t")
            self.assertEqual(caught.exception.code, "E_SIM_SCENE")
            self.assertIn(missing, caught.exception.message)


class ActuatorTest(unittest.TestCase):
    def test_kinds_gains_and_ranges(self) -> None:
        actuators = {a.name: a for a in read_actuators(model(DRIVE))}
        self.assertEqual(actuators["l"].kind, "velocity")
        self.assertEqual(actuators["l"].ctrlrange, (-5.0, 5.0))
        self.assertEqual(actuators["l"].clamp(9.0), 5.0)
        self.assertIsNone(actuators["r"].ctrlrange)
        self.assertEqual(actuators["pan"].kind, "position")
        self.assertTrue(actuators["pan"].holds_position)
        self.assertEqual(actuators["push"].kind, "motor")
        self.assertEqual(actuators["pan"].joint, "pan")

    def test_reported_joints_leave_out_bases_and_wheels(self) -> None:
        m = model(DRIVE)
        self.assertEqual(named_joints(m, read_drive(m, "t")), ["pan"])
        self.assertEqual(named_joints(m, None), ["lj", "rj", "pan"])


class TransactionalLoadTest(unittest.TestCase):
    def test_a_failed_load_leaves_the_running_scene_running(self) -> None:
        backend = MujocoBackend()
        try:
            backend.load({"id": "diff-drive"})
            backend.prepare({"kind": "twist", "linear": {"x": 0.4}, "angular": {"z": 0}}).apply()
            backend.step(100)
            before = backend.state()
            for bad in (
                {"id": "broken", "mjcf": "<mujoco><worldbody><nonsense/></worldbody></mujoco>"},
                {"id": "incomplete", "mjcf": DRIVE.replace('data="l r"', 'data="l nope"')},
                {"id": "missing", "path": "/nowhere/robot.xml"},
            ):
                with self.subTest(scene=bad["id"]), self.assertRaises(SimError):
                    backend.load(bad)
            self.assertEqual(backend.scene, "diff-drive")
            self.assertEqual(backend.state()["bodies"], before["bodies"])
            backend.step(100)
            after = backend.state()
            # Still driven by the twist it had: the base went on forward.
            self.assertGreater(after["base"]["position"][0], before["base"]["position"][0] + 0.02)
        finally:
            backend.close()


class PoseSnapshotTest(unittest.TestCase):
    def test_bodies_and_joints_in_world_terms(self) -> None:
        backend = MujocoBackend()
        try:
            backend.load({"id": "t", "mjcf": DRIVE})
            backend.prepare({"kind": "joints", "name": ["l", "r"], "velocity": [3.0, 3.0]}).apply()
            backend.step(50)
            snap = backend.poses()
            self.assertEqual((snap["scene"], snap["engine"]), ("t", backend.engine))
            decoded = poses.decode(snap["data"])
            self.assertEqual(decoded["format"], poses.FORMAT)
            self.assertEqual([b["name"] for b in decoded["bodies"]], ["chassis", "lw", "rw", "arm"])
            self.assertEqual([j["name"] for j in decoded["joints"]], ["lj", "rj", "pan"])
            chassis = decoded["bodies"][0]
            # The free joint's linear velocity is the chassis origin's, along the world axes.
            qvel = backend.data.qvel
            for i in range(3):
                self.assertAlmostEqual(chassis["linear"][i], float(qvel[i]), places=9)
            self.assertTrue(all(math.isfinite(v) for b in decoded["bodies"] for v in b["position"] + b["linear"]))
        finally:
            backend.close()

    def test_not_a_pose_snapshot(self) -> None:
        with self.assertRaises(ValueError):
            poses.decode(json.dumps({"format": "other"}).encode())
        with self.assertRaises(ValueError):
            poses.encode([poses.body("b", [math.nan, 0, 0], [1, 0, 0, 0], [0, 0, 0], [0, 0, 0])], [])


if __name__ == "__main__":
    unittest.main()
