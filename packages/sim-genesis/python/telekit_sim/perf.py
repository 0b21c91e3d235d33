"""What the sidecar spends, as the `perf` op reports it: CPU by part, and the camera's recent frames.

CPU by part, from the kernel's per-thread accounting (`/proc/self/task/<tid>/stat`, utime + stime,
10 ms ticks), cumulative since the sidecar started:

- `render`: the backend's render thread (MuJoCo's GL thread) and the software renderer's own
  threads (Mesa's `llvmpipe-N` rasterisers and its shader cache thread);
- `physics`: the engine's steps, timed on the main thread with `time.thread_time()` around each;
- `loop`: the rest of the main thread (the protocol, commands, state events, frames out);
- `other`: any other thread (a scene loading in a worker thread, say).

Frames: one record per frame handed to its sink, `[seq, connection, index, capturedAt, renderedAt,
sentAt]` — `index` counts frames on the current sink connection from 0 (the encoder's frame number,
which the media plugin maps to RTP timestamps), the times are ms on Node's clock: `capturedAt` is the
stamp drawn into the picture (the moment the render started), `renderedAt` when the pixels were
ready, `sentAt` when they were handed to the socket.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

#: Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms on every architecture Python runs on.
_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0


def _thread_times() -> list[tuple[int, str, float]]:
    """(tid, name, cpu ms) of each of this process's threads; empty where /proc is missing."""
    out: list[tuple[int, str, float]] = []
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        close = text.rfind(")")
        fields = text[close + 2 :].split(" ")
        out.append((int(tid), text[text.find("(") + 1 : close], (int(fields[11]) + int(fields[12])) * _TICK_MS))
    return out


class CpuMeter:
    """Splits the sidecar's CPU time into render, physics, loop and other (see the module's doc)."""

    def __init__(self) -> None:
        self.physics_ms = 0.0
        # Render threads seen so far, by id: their latest CPU time, and the time of those that ended
        # (a renderer closed and made again), so the render total never goes backwards.
        self._render: dict[int, float] = {}
        self._render_ended_ms = 0.0

    def physics(self, started: float) -> None:
        """Adds the main thread's CPU time since `started` (a `time.thread_time()`) to physics."""
        self.physics_ms += (time.thread_time() - started) * 1000.0

    def sample(self, render_tids: frozenset[int]) -> dict[str, float]:
        main = os.getpid()
        loop = 0.0
        render_now: dict[int, float] = {}
        for tid, name, ms in _thread_times():
            if tid == main:
                loop = ms
            elif tid in render_tids or name.startswith("llvmpipe") or "disk$" in name:
                render_now[tid] = ms
        for tid, ms in self._render.items():
            if tid not in render_now or render_now[tid] < ms:
                self._render_ended_ms += ms
        self._render = render_now
        render = self._render_ended_ms + sum(render_now.values())
        # The process's own total includes every thread, those that ended too.
        total = _process_ms()
        physics = min(self.physics_ms, loop)
        return {
            "physicsMs": round(physics, 1),
            "renderMs": round(render, 1),
            "loopMs": round(loop - physics, 1),
            "otherMs": round(max(0.0, total - render - loop), 1),
            "totalMs": round(total, 1),
        }


def _process_ms() -> float:
    try:
        with open("/proc/self/stat", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return 0.0
    fields = text[text.rfind(")") + 2 :].split(" ")
    return (int(fields[11]) + int(fields[12])) * _TICK_MS


class FrameLog:
    """The last frames handed to the camera's sink, for the `perf` op (see the module's doc)."""

    def __init__(self, size: int = 256) -> None:
        self._frames: deque[list[Any]] = deque(maxlen=size)

    def add(self, seq: int, connection: int, index: int, captured: float, rendered: float, sent: float) -> None:
        self._frames.append([seq, connection, index, round(captured, 3), round(rendered, 3), round(sent, 3)])

    def since(self, seq: int) -> list[list[Any]]:
        """The records after frame `seq` (all that are kept, if it is older than they)."""
        return [f for f in self._frames if f[0] > seq]
