"""The sidecar stopping the robot by itself: the watchdog looks every `WATCH_PERIOD_S` at the
deadman (`deadman.py`: no command while running, or no heartbeat from the supervisor) and at the
parent (`lifeline.py`: the supervisor gone). A deadman trip stops the motion and says so in a
`deadman` event; a lost supervisor (or SIGTERM) stops the robot, lets it come to rest and exits;
`shutdown` stops it and exits at once.

A part of `Sidecar` (`server.py`), as a mixin: it reads and writes the sidecar's state named below.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .actuation import Actuation
from .backend import Backend, Motion
from .clock import NodeClock
from .deadman import Deadman, Trip
from .errors import SimError
from .lifeline import ParentWatch, Trace
from .log import log

if TYPE_CHECKING:
    from .server import SidecarConfig

#: How often the deadman and the parent watch look, s.
WATCH_PERIOD_S = 0.02


class Stopping:
    config: SidecarConfig
    backend: Backend
    actuation: Actuation
    clock: NodeClock
    deadman: Deadman
    trace: Trace
    parent: ParentWatch | None
    running: bool
    loading: bool
    winding_down: bool
    watch_task: asyncio.Task[None] | None
    #: Tasks kept until they end.
    tasks: set[asyncio.Task[None]]
    #: Ends the process's serving (set by `__main__`).
    on_exit: Callable[[], None]
    # Of the sidecar (an annotation only: the sidecar defines it).
    emit: Callable[[dict[str, Any]], None]

    def start(self) -> None:
        """Starts the watchdog (deadman, parent watch); call once the event loop runs."""
        if self.watch_task is None:
            self.watch_task = asyncio.get_running_loop().create_task(self._watch())
            deadman = self.config.deadman
            self.trace.write(
                "start",
                self.backend.time,
                self._motion(),
                commandMs=deadman.command_s * 1000,
                heartbeatMs=deadman.heartbeat_s * 1000,
            )

    def _motion(self) -> Motion:
        try:
            return self.backend.motion()
        except SimError:
            return Motion()

    def _stop_motion(self) -> None:
        try:
            self.backend.stop_motion()
        except SimError:
            pass

    def _moving(self) -> bool:
        try:
            return self.backend.moving()
        except SimError:
            return False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_PERIOD_S)
            if self.parent is not None and not self.winding_down:
                why = self.parent.check()
                if why is not None:
                    self.wind_down(why)
            if not self.loading:
                self._check_deadman(time.monotonic())

    def _check_deadman(self, now: float) -> None:
        """Looked at by the watchdog every 20 ms, and by the run loop before every step."""
        if self.winding_down:
            return
        trip = self.deadman.check(now, self._moving())
        if trip is not None:
            self._trip(trip)

    def _trip(self, trip: Trip) -> None:
        self._stop_motion()
        log("warn", trip.describe(self.config.deadman))
        self.trace.write(
            "deadman", self.backend.time, self._motion(), reason=trip.reason, sinceCommandMs=trip.since_command_s * 1000
        )
        self.emit(
            {
                "event": "deadman",
                "reason": trip.reason,
                "sinceCommandMs": trip.since_command_s * 1000,
                "at": self.clock.now(),
                "simTime": self.backend.time,
            }
        )

    def wind_down(self, reason: str) -> None:
        """The supervisor is gone (or SIGTERM came): stop the robot, let it come to rest, exit."""
        if self.winding_down:
            return
        self.winding_down = True
        log("warn", f"{reason}: stopping the robot, then exiting")
        self.actuation.drop_waiting("refused")
        self._stop_motion()
        self.trace.write("stop", self.backend.time, self._motion(), reason=reason)
        task = asyncio.get_running_loop().create_task(self._settle_then_exit())
        self.tasks.add(task)

    async def _settle_then_exit(self) -> None:
        # Keep simulating (if it runs in real time) until the robot is at rest, for at most the grace time.
        end = time.monotonic() + self.config.stop_grace_s
        while self.running and time.monotonic() < end and not self._motion().at_rest():
            await asyncio.sleep(WATCH_PERIOD_S)
        self.running = False
        self.trace.write("exit", self.backend.time, self._motion())
        self.on_exit()

    def shutdown_now(self) -> None:
        """The supervisor asked: stop the robot and exit at once."""
        self.winding_down = True
        self.running = False
        self.actuation.drop_waiting("refused")
        self._stop_motion()
        self.trace.write("exit", self.backend.time, self._motion(), reason="shutdown")
        self.on_exit()
