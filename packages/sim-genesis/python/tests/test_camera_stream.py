"""When the run loop asks for a frame, and when a frame waits for the physics (camera_stream.py)."""

import unittest
from typing import Any

from telekit_sim.camera_stream import CAMERA_FLOOR_S, CameraStream
from telekit_sim.clock import NodeClock


class Backend:
    time = 0.0

    def __init__(self, renders_on_physics_thread: bool) -> None:
        self.renders_on_physics_thread = renders_on_physics_thread


def stream(renders_on_physics_thread: bool = False) -> CameraStream:
    events: list[dict[str, Any]] = []
    return CameraStream(Backend(renders_on_physics_thread), NodeClock(), events.append)  # type: ignore[arg-type]


class WaitsTest(unittest.TestCase):
    def test_a_frame_beside_the_physics_never_waits(self) -> None:
        self.assertFalse(stream().waits(now=10.0, behind=True))

    def test_on_the_physics_thread_a_frame_waits_while_the_physics_is_behind(self) -> None:
        s = stream(renders_on_physics_thread=True)
        s.last_frame_end, s.last_render_s = 10.0, 0.05
        self.assertTrue(s.waits(now=10.5, behind=True))
        self.assertFalse(s.waits(now=10.5, behind=False))

    def test_nor_sooner_than_the_last_frame_took(self) -> None:
        s = stream(renders_on_physics_thread=True)
        s.last_frame_end, s.last_render_s = 10.0, 0.2
        self.assertTrue(s.waits(now=10.1, behind=False))
        self.assertFalse(s.waits(now=10.3, behind=False))

    def test_but_at_least_one_frame_a_floor_period(self) -> None:
        s = stream(renders_on_physics_thread=True)
        s.last_frame_end, s.last_render_s = 10.0, 0.05
        self.assertFalse(s.waits(now=10.0 + CAMERA_FLOOR_S, behind=True))


class TickTest(unittest.TestCase):
    def test_off_nothing_is_due(self) -> None:
        self.assertEqual(stream().tick(now=5.0, next_frame=4.0, behind=False), 4.0)

    def test_a_sink_not_connected_yet_renders_nothing_and_asks_again_at_once(self) -> None:
        s = stream()
        s.camera = {"fps": 10.0}
        s.sink_address = ("127.0.0.1", 1)
        self.assertEqual(s.tick(now=5.0, next_frame=4.0, behind=False), 5.0)
        self.assertIsNone(s.frame_task)

    def test_a_frame_that_waits_is_dropped_and_the_next_is_one_interval_on(self) -> None:
        s = stream(renders_on_physics_thread=True)
        s.camera = {"fps": 10.0}
        s.last_frame_end, s.last_render_s = 4.9, 0.05
        self.assertAlmostEqual(s.tick(now=5.0, next_frame=5.0, behind=True), 5.1)
        self.assertEqual(s.frames_dropped, 1)
