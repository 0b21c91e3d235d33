"""The sidecar's ties to its supervisor: the parent process, and a trace file for drills.

A supervised sidecar (`--supervised`) has the supervisor's pipe as stdin: the first line is the
per-run token, and the end of the pipe means the supervisor is gone (the kernel closes it whatever
killed the parent). It also watches `os.getppid()`: a new parent (init, or a subreaper) means the old
one died. Either way the sidecar stops the robot and exits; the supervisor also asks the kernel for
SIGTERM on its death (`setpriv --pdeathsig`), which leads to the same place.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from . import console
from .backend import Motion


class ParentWatch:
    """Notices the parent's death: a changed `getppid()`, or the end of stdin (when it is the parent's pipe)."""

    def __init__(self) -> None:
        self.parent = os.getppid()
        self.gone_reason: str | None = None

    def read_token(self, fd: int) -> str | None:
        """The first line of the supervisor's pipe: the per-run token (empty: none).

        Read from the raw descriptor, a byte at a time: nothing beyond the line is consumed, and no
        buffered reader is left holding a lock that interpreter shutdown would wait for.
        """
        line = bytearray()
        while True:
            byte = os.read(fd, 1)
            if not byte:
                self.gone_reason = "the supervisor's pipe closed before it sent a token"
                return None
            if byte == b"\n":
                break
            line += byte
        token = line.decode("utf-8", "replace").strip()
        return token or None

    def watch_pipe(self, fd: int, on_gone: Callable[[str], None]) -> None:
        """Calls `on_gone` (from a daemon thread) when the pipe ends."""

        def wait() -> None:
            try:
                while os.read(fd, 4096):
                    pass
            except OSError:
                pass
            on_gone("the supervisor's pipe closed")

        threading.Thread(target=wait, name="telekit-parent-pipe", daemon=True).start()

    def check(self) -> str | None:
        """Why the parent is gone, or None while it lives."""
        if self.gone_reason is None and os.getppid() != self.parent:
            self.gone_reason = f"parent process {self.parent} is gone"
        return self.gone_reason


class Trace:
    """JSON lines (`TELEKIT_SIM_TRACE`): `start` (with the deadman's limits), one `state` per state the
    sidecar sends, `deadman` per trip, `stop` when it winds down, `exit`.

    For drills and tests that must see the simulation itself even after the sidecar's supervisor is
    dead: `mono` is `time.monotonic()` (CLOCK_MONOTONIC, the clock of Node's `process.hrtime`), `sim`
    the simulated time, `linear`/`angular` the speed and yaw rate the wheels drive the base at
    (odometry), `travel` the base's speed over the ground, `x`/`y` where it is, and `joint` the fastest
    joint's speed.
    """

    def __init__(self, path: str | None) -> None:
        self._file: IO[str] | None = open(path, "a", buffering=1, encoding="utf-8") if path else None

    @classmethod
    def from_environment(cls) -> Trace:
        return cls(os.environ.get("TELEKIT_SIM_TRACE") or None)

    @property
    def enabled(self) -> bool:
        return self._file is not None

    def write(self, event: str, sim_time: float, motion: Motion, **extra: Any) -> None:
        if self._file is None:
            return
        record = {
            "event": event,
            "mono": time.monotonic(),
            "sim": sim_time,
            "pid": os.getpid(),
            "linear": motion.linear,
            "angular": motion.angular,
            "joint": motion.joint,
            "travel": motion.travel,
            "x": motion.x,
            "y": motion.y,
            **extra,
        }
        try:
            self._file.write(json.dumps(record) + "\n")
        except OSError as error:
            print(f"warn trace: cannot write: {error}", file=console.err(), flush=True)
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
