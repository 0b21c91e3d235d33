"""A backend whose scene load is as slow as a cold Genesis build, for the supervisor's warm-up tests
(`test/warmup.test.ts`): `python -m telekit_sim --backend tests.slow_backend:SlowBackend` with
`python/` on `PYTHONPATH`.

Its load reports each step, then holds Python's lock for `TELEKIT_SLOW_BLOCK_S` seconds at a time
(`TELEKIT_SLOW_BLOCKS` times), as Genesis's kernel compiler does: the sidecar answers no ping
meanwhile. With `TELEKIT_SLOW_HANG_ONCE=<file>` the first sidecar to load (the one that creates the
file) stops itself instead (SIGSTOP): no progress, no answer, no CPU, as a hung process.
Then it is the MuJoCo backend.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from telekit_sim.backend import Progress, no_progress
from telekit_sim.mujoco_backend import MujocoBackend


def hold_the_lock(seconds: float) -> None:
    """Busy for `seconds` without letting another thread run (the interpreter's lock is not handed over)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds + 1.0)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
    finally:
        sys.setswitchinterval(previous)


class SlowBackend(MujocoBackend):
    name = "slow"

    def load(self, scene: dict[str, Any], progress: Progress = no_progress) -> dict[str, Any]:
        marker = os.environ.get("TELEKIT_SLOW_HANG_ONCE")
        if marker:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                progress("build", "about to hang")
                time.sleep(0.2)
                os.kill(os.getpid(), signal.SIGSTOP)
        blocks = int(os.environ.get("TELEKIT_SLOW_BLOCKS", "3"))
        seconds = float(os.environ.get("TELEKIT_SLOW_BLOCK_S", "2"))
        for i in range(blocks):
            progress("build", f"compiling, part {i + 1} of {blocks} ({seconds:g} s without a ping answered)")
            # Let the loop send the progress, then hold it off.
            time.sleep(0.05)
            hold_the_lock(seconds)
        return super().load(scene, progress)
