"""The sidecar's stepping: a step applies the commands due (`actuation.py`), then runs the engine;
running in real time, the loop paces the steps to the wall clock and sends `state` events and the
camera's frames at their rates.

A part of `Sidecar` (`server.py`), as a mixin: it reads and writes the sidecar's state named below.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .actuation import Actuation
from .backend import Backend, Motion
from .camera_stream import CameraStream
from .deadman import Deadman
from .lifeline import Trace
from .log import log
from .perf import CpuMeter

#: A `step` of many steps gives the loop a turn this often, s: pings are answered meanwhile (a Genesis
#: step on a CPU takes milliseconds, so `step(1000)` lasts seconds, longer than the supervisor waits).
STEP_TURN_S = 0.02


class Stepping:
    backend: Backend
    actuation: Actuation
    camera: CameraStream
    deadman: Deadman
    trace: Trace
    cpu: CpuMeter
    lock: asyncio.Lock
    running: bool
    #: Bumped by each `run`: a loop of an earlier one ends.
    generation: int
    step_count: int
    realtime_factor: float
    state_hz: float

    # Of the sidecar and its other parts (annotations only: the sidecar defines them).
    emit: Callable[[dict[str, Any]], None]
    _check_deadman: Callable[[float], None]
    _motion: Callable[[], Motion]

    def _state(self) -> dict[str, Any]:
        state = self.backend.state()
        state["step"] = self.step_count
        state["realtimeFactor"] = self.realtime_factor
        return state

    async def _advance_in_turns(self, n: int) -> None:
        """Steps `n` times in runs of about `STEP_TURN_S`, giving the loop a turn between them. A
        command that arrives meanwhile acts from the next run on, as it would at the next step."""
        done, run = 0, min(n, 10)
        while done < n:
            k = min(run, n - done)
            started = time.monotonic()
            self._advance(k)
            done += k
            if done < n:
                took = time.monotonic() - started
                run = max(1, int(k * STEP_TURN_S / took)) if took > 0 else run * 2
                await asyncio.sleep(0)

    def _advance(self, n: int) -> None:
        """Applies the waiting commands still within their deadline, then steps `n` times."""
        applied = self.actuation.apply_due(time.monotonic())
        started = time.thread_time()
        applied_from = self.backend.time
        try:
            self.backend.step(n)
        except Exception:
            for command in applied:
                self.actuation.report_command(command, "refused")
            raise
        self.cpu.physics(started)
        self.step_count += n
        for command in applied:
            self.actuation.report_command(command, "applied", applied_from)

    async def _run(self) -> None:
        dt = self.backend.timestep
        start_wall = time.monotonic()
        start_sim = self.backend.time
        next_state = next_frame = start_wall
        window = (start_wall, start_sim)
        generation = self.generation
        while self.running and generation == self.generation:
            async with self.lock:
                if not self.running or generation != self.generation:
                    break
                wake = self._tick(dt, start_wall, start_sim, window, next_state, next_frame)
            if wake is None:
                break
            start_wall, window, next_state, next_frame, at = wake
            await asyncio.sleep(max(0.0, at - time.monotonic()))

    def _tick(
        self,
        dt: float,
        start_wall: float,
        start_sim: float,
        window: tuple[float, float],
        next_state: float,
        next_frame: float,
    ) -> tuple[float, tuple[float, float], float, float, float] | None:
        now = time.monotonic()
        self._check_deadman(now)
        owed = int(((now - start_wall) - (self.backend.time - start_sim)) / dt)
        behind = False
        if owed > 0:
            # At most a tenth of a second at once: after a stall the simulation slows, it does not jump.
            steps = min(owed, max(1, int(0.1 / dt)))
            try:
                self._advance(steps)
            except Exception as error:  # noqa: BLE001
                log("error", f"step failed: {error!r}")
                self.running = False
                self.deadman.running(False, now)
                return None
            if owed > steps:
                behind = True
                start_wall += (owed - steps) * dt
        if now - window[0] >= 0.25:
            self.realtime_factor = (self.backend.time - window[1]) / (now - window[0])
            window = (now, self.backend.time)
        if now >= next_state:
            self.emit({"event": "state", "state": self._state()})
            if self.trace.enabled:
                self.trace.write("state", self.backend.time, self._motion())
            next_state = max(next_state + 1.0 / self.state_hz, now)
        next_frame = self.camera.tick(now, next_frame, behind)
        wake = min(
            next_state,
            next_frame if self.camera.camera else next_state,
            start_wall + (self.backend.time - start_sim) + dt,
        )
        return start_wall, window, next_state, next_frame, wake
