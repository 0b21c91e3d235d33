"""The sidecar's deadman (deadman.py): when it trips, and that it trips once."""

import unittest

from telekit_sim.deadman import Deadman, DeadmanConfig


class DeadmanTest(unittest.TestCase):
    def setUp(self) -> None:
        self.d = Deadman(DeadmanConfig(command_s=0.5, heartbeat_s=1.0))
        self.d.running(True, now=0.0)

    def test_commands_going_quiet_trip_it_after_the_timeout_never_before(self) -> None:
        self.d.command(1.0)
        self.assertIsNone(self.d.check(1.5, moving=True))
        trip = self.d.check(1.51, moving=True)
        assert trip is not None
        self.assertEqual(trip.reason, "command")
        self.assertAlmostEqual(trip.since_command_s, 0.51)
        self.assertIn("no command for 510 ms (limit 500 ms)", trip.describe(self.d.config))

    def test_once_per_silence(self) -> None:
        self.assertIsNotNone(self.d.check(0.6, moving=True))
        self.assertIsNone(self.d.check(0.7, moving=True))
        self.d.command(0.8)
        self.assertIsNotNone(self.d.check(1.4, moving=True))
        self.assertEqual(self.d.trips, 2)

    def test_nothing_to_stop_nothing_to_trip(self) -> None:
        self.assertIsNone(self.d.check(5.0, moving=False))
        self.assertEqual(self.d.trips, 0)

    def test_stepped_by_hand_it_stays_out_of_the_way(self) -> None:
        self.d.running(False, now=0.1)
        self.assertIsNone(self.d.check(100.0, moving=True))
        self.assertFalse(self.d.heartbeat_lost(100.0))

    def test_running_again_starts_the_count_afresh(self) -> None:
        self.d.running(False, now=0.1)
        self.d.running(True, now=10.0)
        self.assertIsNone(self.d.check(10.4, moving=True))
        self.assertIsNotNone(self.d.check(10.6, moving=True))

    def test_the_heartbeat_counts_once_the_supervisor_has_pinged(self) -> None:
        self.assertFalse(self.d.heartbeat_lost(50.0))  # never pinged: a client without a supervisor
        self.d.heartbeat(1.0)
        for t in (1.2, 1.4, 1.6, 1.8):
            self.d.command(t)
        self.assertFalse(self.d.heartbeat_lost(2.0))
        self.d.command(2.05)
        self.assertTrue(self.d.heartbeat_lost(2.1))
        trip = self.d.check(2.1, moving=True)
        assert trip is not None
        self.assertEqual(trip.reason, "heartbeat")
        self.assertIn("no heartbeat from the supervisor for 1100 ms", trip.describe(self.d.config))
        self.d.heartbeat(2.2)
        self.assertFalse(self.d.heartbeat_lost(2.3))

    def test_rearm_after_targets_set_without_a_command(self) -> None:
        self.d.command(0.0)
        self.assertIsNotNone(self.d.check(0.6, moving=True))
        self.d.rearm(5.0)  # a snapshot restored its targets
        self.assertIsNone(self.d.check(5.4, moving=True))
        self.assertIsNotNone(self.d.check(5.6, moving=True))

    def test_timeouts_must_be_positive(self) -> None:
        with self.assertRaises(ValueError):
            DeadmanConfig(command_s=0.0)


if __name__ == "__main__":
    unittest.main()
