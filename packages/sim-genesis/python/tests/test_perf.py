import threading
import time
import unittest

import numpy as np

from telekit_sim.backend import RenderOptions, picture
from telekit_sim.perf import CpuMeter, FrameLog
from telekit_sim.stamp import STAMP_BITS, block_size


class FrameLogTest(unittest.TestCase):
    def test_since_returns_only_newer_frames_and_keeps_the_last(self) -> None:
        log = FrameLog(size=4)
        for seq in range(1, 7):
            log.add(seq, 1, seq - 1, 10.0 * seq, 10.0 * seq + 3, 10.0 * seq + 4)
        self.assertEqual([f[0] for f in log.since(0)], [3, 4, 5, 6])
        self.assertEqual([f[0] for f in log.since(5)], [6])
        self.assertEqual(log.since(6), [])


class CpuMeterTest(unittest.TestCase):
    def test_render_threads_are_counted_as_render_and_physics_is_what_was_timed(self) -> None:
        meter = CpuMeter()
        tids: set[int] = set()

        def spin() -> None:
            tids.add(threading.get_native_id())
            end = time.thread_time() + 0.15
            while time.thread_time() < end:
                pass

        worker = threading.Thread(target=spin)
        worker.start()
        worker.join()
        started = time.thread_time()
        end = started + 0.05
        while time.thread_time() < end:
            pass
        meter.physics(started)
        # The render thread has ended: its time must stay counted once it was seen, and here it was
        # never seen alive, so it is the process's "other" time.
        sample = meter.sample(frozenset(tids))
        self.assertGreaterEqual(sample["physicsMs"], 40)
        self.assertGreaterEqual(sample["totalMs"], sample["physicsMs"] + sample["loopMs"])
        self.assertGreaterEqual(sample["otherMs"] + sample["renderMs"], 100)


class PictureTest(unittest.TestCase):
    def test_rgb_and_rgba_pictures_carry_the_stamp(self) -> None:
        rgb = np.zeros((120, 320, 3), dtype=np.uint8)
        for fmt, channels in (("rgb", 3), ("rgba", 4)):
            out = picture(rgb, RenderOptions(format=fmt, stamp_ms=0xABCDEF))
            self.assertEqual(out.shape, (120, 320, channels))
            size = block_size(320)
            # The sync blocks (white, black), then the value's bits, most significant first.
            row = out[size // 2, :, 0]
            self.assertEqual(row[size // 2], 255)
            self.assertEqual(row[size + size // 2], 0)
            bits = [1 if row[(2 + i) * size + size // 2] == 255 else 0 for i in range(STAMP_BITS)]
            self.assertEqual(int("".join(map(str, bits)), 2), 0xABCDEF)


if __name__ == "__main__":
    unittest.main()
