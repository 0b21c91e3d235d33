"""Node's clock as the sidecar sees it (clock.py)."""

import time
import unittest

from telekit_sim.clock import NodeClock


class NodeClockTest(unittest.TestCase):
    def test_until_a_ping_the_wall_clock_stands_in(self) -> None:
        clock = NodeClock()
        self.assertFalse(clock.synced)
        self.assertLess(abs(clock.now() - time.time() * 1000), 50)

    def test_keeps_the_least_delayed_sample(self) -> None:
        clock = NodeClock()
        offset = 1_000_000.0  # Node's clock minus monotonic, ms
        # Sent at node time T, received d ms later: sample = offset - d; the least delayed wins.
        for received, delay in ((10.0, 3.0), (11.0, 0.2), (12.0, 40.0)):
            self.assertTrue(clock.sample(received * 1000 + offset - delay, received))
        self.assertTrue(clock.synced)
        self.assertAlmostEqual(clock.offset_ms, offset - 0.2)
        self.assertAlmostEqual(clock.at(20.0), 20_000 + offset - 0.2)

    def test_old_samples_leave_the_window(self) -> None:
        clock = NodeClock(window=2)
        clock.sample(1000.0 + 5.0, 1.0)  # offset 5
        clock.sample(2000.0 + 1.0, 2.0)
        clock.sample(3000.0 + 1.0, 3.0)
        self.assertAlmostEqual(clock.offset_ms, 1.0)

    def test_garbage_is_no_sample(self) -> None:
        clock = NodeClock()
        for bad in (None, "12", float("nan"), float("inf"), True):
            self.assertFalse(clock.sample(bad, 1.0))
        self.assertFalse(clock.synced)


if __name__ == "__main__":
    unittest.main()
