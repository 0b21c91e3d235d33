"""Commands from `act` to their fate, with a stand-in backend (actuation.py)."""

import time
import unittest
from typing import Any

import msgpack

from telekit_sim.actuation import Actuation
from telekit_sim.backend import PreparedAction
from telekit_sim.clock import NodeClock
from telekit_sim.connection import Client
from telekit_sim.deadman import Deadman, DeadmanConfig
from telekit_sim.errors import SimError


class Writer:
    """A client's stream: keeps what is written."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)

    def events(self) -> list[dict[str, Any]]:
        return [msgpack.unpackb(f[4:]) for f in self.frames]


class Backend:
    time = 1.5

    def __init__(self) -> None:
        self.applied: list[str] = []

    def prepare(self, action: dict[str, Any]) -> PreparedAction:
        kind = action["kind"]
        if kind not in ("twist", "freeze"):
            raise SimError("E_VALIDATION", f"unknown action kind {kind!r}", field="kind")
        return PreparedAction(kind, frozenset({"wheels"}), lambda: self.applied.append(kind))


def header(seq: int, ttl: float = 1000.0) -> dict[str, Any]:
    return {"seq": seq, "stamp": NodeClock().now(), "sender": "t", "ttl": ttl}


class ActuationTest(unittest.TestCase):
    def setUp(self) -> None:
        self.backend = Backend()
        self.deadman = Deadman(DeadmanConfig(command_s=0.5, heartbeat_s=1.0))
        self.writer = Writer()
        self.client = Client(self.writer, authenticated=True)  # type: ignore[arg-type]
        self.actuation = Actuation(self.backend, NodeClock(), self.deadman, {self.client}, 250.0)  # type: ignore[arg-type]

    def act(self, kind: str, seq: int) -> dict[str, Any]:
        return self.actuation.act(
            {"action": {"kind": kind}, "command": header(seq)}, self.client, time.monotonic(), False
        )

    def fates(self) -> list[tuple[int, str]]:
        return [(e["command"]["seq"], e["fate"]) for e in self.writer.events()]

    def test_a_command_waits_for_the_step_and_is_applied_there(self) -> None:
        self.assertEqual(self.act("twist", 1), {})
        self.assertEqual(self.backend.applied, [])
        applied = self.actuation.apply_due(time.monotonic())
        self.assertEqual(self.backend.applied, ["twist"])
        for command in applied:
            self.actuation.report_command(command, "applied", 1.5)
        self.assertEqual(self.fates(), [(1, "applied")])
        self.assertEqual(self.writer.events()[0]["appliedSimTime"], 1.5)
        self.assertEqual(self.actuation.fates["applied"], 1)

    def test_a_newer_command_supersedes_the_waiting_one(self) -> None:
        self.act("twist", 1)
        self.act("twist", 2)
        self.assertEqual(self.fates(), [(1, "superseded")])
        self.assertEqual(len(self.actuation.queue), 1)

    def test_what_the_scene_cannot_do_is_refused_and_reported(self) -> None:
        with self.assertRaises(SimError):
            self.act("fly", 1)
        self.assertEqual(self.fates(), [(1, "refused")])

    def test_no_new_commands_while_stopping(self) -> None:
        with self.assertRaises(SimError) as caught:
            self.actuation.act({"action": {"kind": "twist"}, "command": header(1)}, self.client, time.monotonic(), True)
        self.assertEqual(caught.exception.code, "E_SIM_STOPPING")

    def test_with_the_heartbeat_lost_only_a_freeze_is_applied(self) -> None:
        now = time.monotonic()
        self.deadman.running(True, now - 5)
        self.deadman.heartbeat(now - 2)
        self.act("twist", 1)
        self.assertEqual(self.actuation.apply_due(now), [])
        self.assertEqual(self.fates(), [(1, "refused")])
        self.act("freeze", 2)
        self.assertEqual(len(self.actuation.apply_due(now)), 1)
        self.assertEqual(self.backend.applied, ["freeze"])

    def test_drop_waiting_reports_every_waiting_command(self) -> None:
        self.act("twist", 1)
        self.actuation.drop_waiting("superseded")
        self.assertEqual(self.fates(), [(1, "superseded")])
        self.assertEqual(len(self.actuation.queue), 0)
