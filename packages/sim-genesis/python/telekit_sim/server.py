"""The sidecar server: one simulation, driven over framed msgpack by the TS plugin.

Requests carry an `id` and an `op`, and each gets exactly one answer with the same `id`; events
carry `event` instead: `state`, `frame`, `deadman`, `progress` (to every client) and `actuation` (to
the command's sender). See the package README; `connection.py` states the answers' shape and the
hello a connection must start with when a token is configured.

Commands (`act`) wait for the step that applies them; `commands.py` states the rule and the fates.
The deadman (`deadman.py`) and the parent watch (`lifeline.py`) stop the robot by themselves.
The camera renders only while it is on (`camera`), and with a TCP sink only while connected to it;
`perf` reports the CPU by part and the camera's recent frames (`perf.py`).

This module holds the sidecar's state and its ops (the handler table); the rest is in parts:
`connection.py` (connections, the hello gate, dispatch), `actuation.py` (commands and their fates),
`stepping.py` (steps and the real-time loop), `camera_stream.py` (the camera and its frames) and
`stopping.py` (the watchdog, and stopping the robot by itself).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import PROTOCOL, __version__
from .actuation import Actuation
from .backend import Backend
from .camera_stream import CameraStream
from .clock import NodeClock
from .commands import DEFAULT_TTL_MS
from .connection import Connections, Op, Request
from .deadman import Deadman, DeadmanConfig
from .errors import SimError
from .lifeline import ParentWatch, Trace
from .log import log
from .perf import CpuMeter
from .stepping import Stepping
from .stopping import Stopping

#: While a scene loads, its progress is sent again this often (the step it is at, and for how long).
PROGRESS_REPEAT_S = 5.0


@dataclass(frozen=True)
class SidecarConfig:
    #: The per-run token a connection must show in `hello`; None: none needed (a private Unix socket).
    token: str | None = None
    deadman: DeadmanConfig = field(default_factory=DeadmanConfig)
    #: The deadline of a command whose header has no `ttl`, ms (the core's `DEFAULT_TTL_MS`).
    default_ttl_ms: float = DEFAULT_TTL_MS
    #: After its parent died: how long the robot may take to come to rest before the sidecar exits, s.
    stop_grace_s: float = 1.0


class Sidecar(Stopping, Stepping):
    """One simulation served to its clients: the state the parts share, and the ops (`self.ops`)."""

    def __init__(
        self,
        backend: Backend,
        config: SidecarConfig | None = None,
        *,
        trace: Trace | None = None,
        parent: ParentWatch | None = None,
    ) -> None:
        self.backend = backend
        self.config = config or SidecarConfig()
        self.trace = trace or Trace(None)
        self.parent = parent
        self.clock = NodeClock()
        self.deadman = Deadman(self.config.deadman)
        self.running = False
        self.loading = False
        #: The scene loaded (None until one is): a sidecar without a scene is not ready to drive.
        self.scene_id: str | None = None
        self.winding_down = False
        self.loop_task: asyncio.Task[None] | None = None
        self.watch_task: asyncio.Task[None] | None = None
        self.state_hz = 50.0
        self.step_count = 0
        self.realtime_factor = 0.0
        self.cpu = CpuMeter()
        self.lock = asyncio.Lock()
        self.generation = 0
        self.tasks: set[asyncio.Task[None]] = set()
        #: Ends the process's serving (set by `__main__`).
        self.on_exit: Callable[[], None] = lambda: None
        self.ops: dict[str, Op] = {
            "hello": self.op_hello,
            "ping": self.op_ping,
            "stats": self.op_stats,
            "load_scene": self.op_load_scene,
            "reset": self.op_reset,
            "step": self.op_step,
            "run": self.op_run,
            "pause": self.op_pause,
            "act": self.op_act,
            "state": self.op_state,
            "snapshot": self.op_snapshot,
            "poses": self.op_poses,
            "scene": self.op_scene,
            "restore": self.op_restore,
            "camera": self.op_camera,
            "perf": self.op_perf,
            "shutdown": self.op_shutdown,
        }
        self.connections = Connections(self.ops, self.lock, self.config.token, self.shutdown_now)
        self.actuation = Actuation(
            backend, self.clock, self.deadman, self.connections.clients, self.config.default_ttl_ms
        )
        self.camera = CameraStream(backend, self.clock, self.emit)

    # ------------------------------------------------------------------ plumbing
    def emit(self, message: dict[str, Any]) -> None:
        """Sends an event to every client that has said hello."""
        self.connections.emit(message)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serves one connection until it closes."""
        await self.connections.serve(reader, writer)

    # ------------------------------------------------------------------ ops
    async def op_hello(self, r: Request) -> dict[str, Any]:
        token = r.message.get("token")
        # A connection that is in may say hello again without the token; a token shown must be right.
        if self.config.token is not None and (token is not None or not r.client.authenticated):
            if not (isinstance(token, str) and hmac.compare_digest(token.encode(), self.config.token.encode())):
                r.client.close_after_reply = True
                raise SimError("E_UNAUTHORIZED", "wrong or missing token", field="token")
        r.client.authenticated = True
        self.clock.sample(r.message.get("time"), r.received)
        return {
            "protocol": PROTOCOL,
            "version": __version__,
            "backend": self.backend.name,
            "engine": self.backend.engine,
            "capabilities": self.backend.capabilities,
            "deadman": {
                "commandMs": self.config.deadman.command_s * 1000,
                "heartbeatMs": self.config.deadman.heartbeat_s * 1000,
            },
            "defaultTtlMs": self.config.default_ttl_ms,
            "scene": self.scene_id,
            "loading": self.loading,
        }

    async def op_ping(self, r: Request) -> dict[str, Any]:
        # A ping is the supervisor's heartbeat; the time it carries (Node's, when it was sent) maps our clock to Node's.
        self.deadman.heartbeat(r.received)
        self.clock.sample(r.message.get("t"), r.received)
        return {"t": self.clock.now(), "received": self.clock.at(r.received)}

    async def op_stats(self, r: Request) -> dict[str, Any]:
        return {
            "fates": dict(self.actuation.fates),
            "deadmanTrips": self.deadman.trips,
            "waiting": len(self.actuation.queue),
            "oldestAppliedMs": self.actuation.oldest_applied_ms,
            "clock": {"offsetMs": self.clock.offset_ms, "synced": self.clock.synced},
        }

    async def op_load_scene(self, r: Request) -> dict[str, Any]:
        """Loads a scene as a transaction: the running one pauses meanwhile (the lock) and goes on
        as it was if the load fails. Each step of the load is sent as a `progress` event as it starts
        (the supervisor judges a warm-up by them, not by pings), and again every `PROGRESS_REPEAT_S`
        while it lasts; the last one says `ready` or `failed`."""
        scene = r.message.get("scene")
        if not isinstance(scene, dict):
            raise SimError("E_VALIDATION", "scene must be a map with id and mjcf or path", field="scene")
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        scene_id = str(scene.get("id") or "scene")
        current = {"phase": "start", "message": f"loading {scene_id}"}

        def report(phase: str, message: str, repeat: bool = False) -> None:
            current.update(phase=phase, message=message)
            event: dict[str, Any] = {
                "event": "progress",
                "scene": scene_id,
                "phase": phase,
                "message": message,
                "elapsedMs": round((time.monotonic() - started) * 1000),
            }
            if repeat:
                event["repeat"] = True
            self.emit(event)
            if not repeat:
                log("info", f"{scene_id}: {message}")

        def progress(phase: str, message: str) -> None:
            # From the load's thread: events go out on the loop's.
            loop.call_soon_threadsafe(report, phase, message)

        async def repeat() -> None:
            while True:
                await asyncio.sleep(PROGRESS_REPEAT_S)
                report(current["phase"], current["message"], repeat=True)

        report("start", f"loading {scene_id} on {self.backend.name}")
        ticker = loop.create_task(repeat())
        self.loading = True
        try:
            info = (
                await asyncio.to_thread(self.backend.load, scene, progress)
                if self.backend.load_in_thread
                else self.backend.load(scene, progress)
            )
        except Exception as error:
            message = error.message if isinstance(error, SimError) else str(error)
            report(
                "failed",
                f"{scene_id} did not load: {message}" + (f"; {self.scene_id} runs on" if self.scene_id else ""),
            )
            raise
        finally:
            ticker.cancel()
            self.loading = False
            self.deadman.rearm(time.monotonic())
        # Loaded: what waited for the old scene is superseded, and the new one starts from step 0.
        self.scene_id = str(info.get("id", scene_id))
        self.actuation.drop_waiting("superseded")
        self.step_count = 0
        report("ready", f"{scene_id} ready in {time.monotonic() - started:.1f} s")
        return {"scene": info}

    async def op_reset(self, r: Request) -> dict[str, Any]:
        self.backend.reset()
        self.step_count = 0
        self.actuation.drop_waiting("superseded")
        self.deadman.rearm(time.monotonic())
        return {}

    async def op_step(self, r: Request) -> dict[str, Any]:
        n = r.message.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 1_000_000:
            raise SimError("E_VALIDATION", "n must be an integer from 1 to 1000000", field="n")
        await self._advance_in_turns(n)
        state = self._state()
        if not self.running:
            await self.camera.after_step()
        return {"state": state}

    async def op_run(self, r: Request) -> dict[str, Any]:
        hz = r.message.get("state_hz", self.state_hz)
        if isinstance(hz, bool) or not isinstance(hz, (int, float)) or not 0 < hz <= 1000:
            raise SimError("E_VALIDATION", "state_hz must be a number in (0, 1000]", field="state_hz")
        self.state_hz = float(hz)
        if not self.running:
            self.backend.require_scene()
            self.running = True
            self.deadman.running(True, time.monotonic())
            self.generation += 1
            self.loop_task = asyncio.get_running_loop().create_task(self._run())
        return {}

    async def op_pause(self, r: Request) -> dict[str, Any]:
        # The run loop takes the lock each tick, so it sees this before its next step.
        self.running = False
        self.deadman.running(False, time.monotonic())
        self.loop_task = None
        return {}

    async def op_act(self, r: Request) -> dict[str, Any]:
        return self.actuation.act(r.message, r.client, r.received, stopping=self.winding_down)

    async def op_state(self, r: Request) -> dict[str, Any]:
        return {"state": self._state()}

    async def op_poses(self, r: Request) -> dict[str, Any]:
        """The pose snapshot (`poses.py`): what another engine needs to follow this simulation."""
        snap = self.backend.poses()
        snap["step"] = self.step_count
        return {"snapshot": snap}

    async def op_scene(self, r: Request) -> dict[str, Any]:
        """What the scene looks like (`scene_description.py`: core's `/telemetry/sim_scene`), for a
        page's 3D view in server mode: bodies, geoms, meshes, materials, textures, lights."""
        self.backend.require_scene()
        description = self.backend.describe_scene()
        if description is None:
            raise SimError("E_SIM_BACKEND", f"the {self.backend.name} backend does not describe its scene")
        return {"description": description}

    async def op_snapshot(self, r: Request) -> dict[str, Any]:
        snap = self.backend.snapshot()
        snap["step"] = self.step_count
        return {"snapshot": snap}

    async def op_restore(self, r: Request) -> dict[str, Any]:
        snap = r.message.get("snapshot")
        if not isinstance(snap, dict):
            raise SimError("E_VALIDATION", "snapshot must be a map", field="snapshot")
        self.backend.restore(snap)
        self.step_count = int(snap.get("step", self.step_count))
        self.actuation.drop_waiting("superseded")
        # A restored snapshot brings its actuator targets back: they move nothing without a fresh command.
        self.deadman.rearm(time.monotonic())
        return {}

    async def op_camera(self, r: Request) -> dict[str, Any]:
        """Starts (or stops) the camera: `CameraStream.configure`."""
        await self.camera.configure(r.message)
        return {}

    async def op_perf(self, r: Request) -> dict[str, Any]:
        """CPU by part and the camera's frames after `since` (see `perf.py`)."""
        since = r.message.get("since", 0)
        if isinstance(since, bool) or not isinstance(since, int):
            raise SimError("E_VALIDATION", "since must be a frame number", field="since")
        return {
            "cpu": self.cpu.sample(self.backend.render_threads()),
            "camera": self.camera.counters(),
            "frames": self.camera.frame_log.since(since),
        }

    async def op_shutdown(self, r: Request) -> dict[str, Any]:
        return {"shutdown": True}

    async def close(self) -> None:
        self.running = False
        self._stop_motion()
        for task in (self.watch_task, self.loop_task):
            if task is not None:
                task.cancel()
        self.camera.cancel()
        self.connections.close()
        self.backend.close()
        self.trace.close()
