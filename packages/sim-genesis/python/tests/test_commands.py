"""The rule for waiting commands: deadlines, supersession, fates (commands.py)."""

import unittest

from telekit_sim.backend import PreparedAction
from telekit_sim.commands import MAX_TTL_MS, Command, CommandQueue, check_header, deadline_of
from telekit_sim.errors import SimError


def action(kind: str, *targets: object) -> PreparedAction:
    return PreparedAction(kind, frozenset(targets), lambda: None)


def command(kind: str, targets: tuple[object, ...], deadline: float | None = None, seq: int = 0) -> Command:
    return Command(action(kind, *targets), {"seq": seq, "stamp": 0.0, "sender": "t"}, deadline, 0.0)


class DeadlineTest(unittest.TestCase):
    def test_ttl_from_the_header_or_the_default(self) -> None:
        self.assertEqual(deadline_of("twist", {"stamp": 1000.0, "ttl": 100}, received=1010.0), 1100.0)
        self.assertEqual(deadline_of("twist", {"stamp": 1000.0}, received=1010.0, default_ttl_ms=250), 1250.0)

    def test_a_stamp_from_the_future_buys_no_extra_life(self) -> None:
        self.assertEqual(deadline_of("twist", {"stamp": 9000.0, "ttl": 100}, received=1000.0), 1100.0)

    def test_ttl_is_capped(self) -> None:
        self.assertEqual(deadline_of("joints", {"stamp": 0.0, "ttl": 10**9}, received=0.0), MAX_TTL_MS)

    def test_a_freeze_and_an_action_without_header_never_expire(self) -> None:
        self.assertIsNone(deadline_of("freeze", {"stamp": 0.0, "ttl": 1}, received=0.0))
        self.assertIsNone(deadline_of("twist", None, received=0.0))

    def test_headers_are_checked(self) -> None:
        self.assertIsNone(check_header(None))
        for bad, field in (
            ("x", "command"),
            ({"stamp": "now"}, "command.stamp"),
            ({"stamp": float("nan")}, "command.stamp"),
            ({"stamp": 1, "ttl": -5}, "command.ttl"),
            ({"stamp": True}, "command.stamp"),
        ):
            with self.subTest(bad=bad), self.assertRaises(SimError) as caught:
                check_header(bad)
            self.assertEqual(caught.exception.field, field)


class QueueTest(unittest.TestCase):
    def test_a_newer_command_supersedes_the_waiting_ones_it_covers(self) -> None:
        q = CommandQueue()
        first = command("twist", ("l", "r"), seq=1)
        self.assertEqual(q.submit(first), [])
        second = command("twist", ("l", "r"), seq=2)
        self.assertEqual(q.submit(second), [(first, "superseded")])
        self.assertEqual(len(q), 1)

    def test_commands_to_other_actuators_both_wait(self) -> None:
        q = CommandQueue()
        arm = command("joints", ("shoulder",))
        base = command("twist", ("l", "r"))
        q.submit(arm)
        self.assertEqual(q.submit(base), [])
        # A joints command for more joints covers one for fewer, not the other way round.
        both = command("joints", ("shoulder", "elbow"))
        self.assertEqual(q.submit(both), [(arm, "superseded")])
        self.assertEqual(q.submit(command("joints", ("elbow",))), [])
        self.assertEqual(len(q), 3)

    def test_a_freeze_e_stops_the_motion_commands_that_wait_and_supersedes_a_freeze(self) -> None:
        q = CommandQueue()
        twist = command("twist", ("l", "r"), seq=1)
        first = command("freeze", ("l", "r", "arm"), seq=2)
        second = command("freeze", ("l", "r", "arm"), seq=3)
        self.assertEqual(q.submit(twist), [])
        self.assertEqual(q.submit(first), [(twist, "estop")])
        self.assertEqual(q.submit(second), [(first, "superseded")])

    def test_at_the_step_expired_commands_are_set_apart_in_order(self) -> None:
        q = CommandQueue()
        late = command("joints", ("a",), deadline=100.0, seq=1)
        fresh = command("joints", ("b",), deadline=300.0, seq=2)
        forever = command("freeze", ("c",), deadline=None, seq=3)
        for c in (late, fresh, forever):
            q.submit(c)
        due, expired = q.take(now=200.0)
        self.assertEqual(due, [fresh, forever])
        self.assertEqual(expired, [late])
        self.assertEqual(len(q), 0)

    def test_clear_returns_what_waited(self) -> None:
        q = CommandQueue()
        c = command("twist", ("l",))
        q.submit(c)
        self.assertEqual(q.clear(), [c])
        self.assertEqual(len(q), 0)


if __name__ == "__main__":
    unittest.main()
