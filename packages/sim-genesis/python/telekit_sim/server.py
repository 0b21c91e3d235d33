"""The sidecar server: one simulation, driven over framed msgpack by the TS plugin.

Requests carry an `id` and an `op`; each gets exactly one answer with the same `id`:
`{"id", "ok": true, ...}` or `{"id", "ok": false, "error": {"code", "message", "file"?, "line"?, "field"?}}`.
Events carry `event` instead: `state`, `frame`, `actuation`, `log`. See the package README.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from . import PROTOCOL, __version__
from .errors import SimError
from .framing import FrameError, encode_frame, read_frame
from .stamp import stamp_frame


# Answered at once, whatever else is running.
LOCK_FREE = {"hello", "ping", "shutdown"}


def log(level: str, message: str) -> None:
    print(f"{level} {message}", file=sys.stderr, flush=True)


def now_ms() -> float:
    return time.time() * 1000.0


class Sidecar:
    def __init__(self, backend) -> None:
        self.backend = backend
        self.clients: set[asyncio.StreamWriter] = set()
        self.running = False
        self.loop_task: asyncio.Task | None = None
        self.state_hz = 50.0
        self.camera: dict | None = None
        self.frame_seq = 0
        self.step_count = 0
        self.pending_command: dict | None = None
        self.realtime_factor = 0.0
        self.sink: asyncio.StreamWriter | None = None
        self.frames_dropped = 0
        self.sink_address: tuple[str, int] | None = None
        self.sink_task: asyncio.Task | None = None
        self.next_frame_sim = 0.0
        self.lock = asyncio.Lock()
        self.generation = 0
        self.tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ plumbing
    def emit(self, message: dict) -> None:
        frame = encode_frame(message)
        for writer in list(self.clients):
            # A client that does not read loses events rather than stalling the simulation.
            if writer.transport.get_write_buffer_size() > 32 * 1024 * 1024:
                continue
            writer.write(frame)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.add(writer)
        try:
            while True:
                try:
                    message = await read_frame(reader)
                except FrameError as error:
                    writer.write(encode_frame({"id": None, "ok": False, "error": {"code": "E_PROTOCOL", "message": str(error)}}))
                    break
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    # The peer went, or the sidecar is shutting down: nothing to report.
                    break
                # Each request runs as its own task, so that `ping` is answered while a long one
                # (Genesis compiling a scene) runs; the backend lock keeps the others in order.
                task = asyncio.get_running_loop().create_task(self._reply(message, writer))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        finally:
            self.clients.discard(writer)
            writer.close()

    async def _reply(self, message: Any, writer: asyncio.StreamWriter) -> None:
        reply = await self.handle(message)
        if reply is None or writer.is_closing():
            return
        writer.write(encode_frame(reply))
        try:
            await writer.drain()
        except ConnectionError:
            return
        if reply.get("shutdown"):
            asyncio.get_running_loop().call_soon(self.stop)

    async def handle(self, message: Any) -> dict | None:
        if not isinstance(message, dict):
            return {"id": None, "ok": False, "error": {"code": "E_PROTOCOL", "message": "a request must be a map with id and op"}}
        request_id = message.get("id")
        op = message.get("op")
        try:
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                raise SimError("E_UNKNOWN_OP", f"unknown op {op!r}", field="op")
            if op in LOCK_FREE:
                result = await handler(message)
            else:
                async with self.lock:
                    result = await handler(message)
            return {"id": request_id, "ok": True, **(result or {})}
        except SimError as error:
            return {"id": request_id, "ok": False, "error": error.to_wire()}
        except (TypeError, ValueError, KeyError, IndexError) as error:
            return {"id": request_id, "ok": False, "error": {"code": "E_VALIDATION", "message": f"bad {op} request: {error}"}}
        except Exception as error:  # noqa: BLE001 - nothing a client sends may kill the sidecar
            log("error", f"{op} failed: {error!r}")
            return {"id": request_id, "ok": False, "error": {"code": "E_INTERNAL", "message": f"{op} failed: {error}"}}

    # ------------------------------------------------------------------ ops
    async def op_hello(self, m: dict) -> dict:
        return {
            "protocol": PROTOCOL,
            "version": __version__,
            "backend": self.backend.name,
            "engine": self.backend.engine,
            "capabilities": self.backend.capabilities,
        }

    async def op_ping(self, m: dict) -> dict:
        return {"t": now_ms()}

    async def op_load_scene(self, m: dict) -> dict:
        scene = m.get("scene")
        if not isinstance(scene, dict):
            raise SimError("E_VALIDATION", "scene must be a map with id and mjcf or path", field="scene")
        self.pending_command = None
        self.step_count = 0
        # In a thread where the engine allows it, so that pings are answered meanwhile. Genesis's
        # compiler must run on the main thread; the supervisor holds its heartbeat while a scene loads.
        if getattr(self.backend, "load_in_thread", False):
            return {"scene": await asyncio.to_thread(self.backend.load, scene)}
        return {"scene": self.backend.load(scene)}

    async def op_reset(self, m: dict) -> dict:
        self.backend.reset()
        self.step_count = 0
        self.pending_command = None
        return {}

    async def op_step(self, m: dict) -> dict:
        n = m.get("n", 1)
        if not isinstance(n, int) or n < 1 or n > 1_000_000:
            raise SimError("E_VALIDATION", "n must be an integer from 1 to 1000000", field="n")
        self._advance(n)
        return {"state": self._state()}

    async def op_run(self, m: dict) -> dict:
        hz = m.get("state_hz", self.state_hz)
        if not isinstance(hz, (int, float)) or not 0 < hz <= 1000:
            raise SimError("E_VALIDATION", "state_hz must be a number in (0, 1000]", field="state_hz")
        self.state_hz = float(hz)
        if not self.running:
            self.backend._require() if hasattr(self.backend, "_require") else None
            self.running = True
            self.generation += 1
            self.loop_task = asyncio.get_running_loop().create_task(self._run())
        return {}

    async def op_pause(self, m: dict) -> dict:
        # The run loop takes the lock each tick, so it sees this before its next step.
        self.running = False
        self.loop_task = None
        return {}

    async def op_act(self, m: dict) -> dict:
        action = m.get("action")
        if not isinstance(action, dict):
            raise SimError("E_VALIDATION", "action must be a map with a kind", field="action")
        self.backend.act(action)
        command = m.get("command")
        if isinstance(command, dict):
            self.pending_command = command
        return {}

    async def op_state(self, m: dict) -> dict:
        return {"state": self._state()}

    async def op_snapshot(self, m: dict) -> dict:
        snap = self.backend.snapshot()
        snap["step"] = self.step_count
        return {"snapshot": snap}

    async def op_restore(self, m: dict) -> dict:
        snap = m.get("snapshot")
        if not isinstance(snap, dict):
            raise SimError("E_VALIDATION", "snapshot must be a map", field="snapshot")
        self.backend.restore(snap)
        self.step_count = int(snap.get("step", self.step_count))
        return {}

    async def op_camera(self, m: dict) -> dict:
        if not m.get("enabled", True):
            self.camera = None
            await self._close_sink()
            return {}
        width, height, fps = m.get("width", 640), m.get("height", 480), m.get("fps", 30)
        for name, value, top in (("width", width, 4096), ("height", height, 4096), ("fps", fps, 240)):
            if not isinstance(value, (int, float)) or not 0 < value <= top:
                raise SimError("E_VALIDATION", f"{name} must be a number in (0, {top}]", field=name)
        name = m.get("camera")
        frame = self.backend.render(name, int(width), int(height))  # fails early on a bad camera
        await self._close_sink()
        sink = m.get("sink", "events")
        if isinstance(sink, str) and sink.startswith("tcp:"):
            host, _, port = sink[4:].rpartition(":")
            if not port.isdigit():
                raise SimError("E_VALIDATION", "sink must be 'events' or 'tcp:host:port'", field="sink")
            self.sink_address = (host or "127.0.0.1", int(port))
            self._ensure_sink()
        elif sink != "events":
            raise SimError("E_VALIDATION", "sink must be 'events' or 'tcp:host:port'", field="sink")
        stamp = m.get("stamp", True)
        if not isinstance(stamp, bool):
            raise SimError("E_VALIDATION", "stamp must be a boolean", field="stamp")
        self.camera = {"camera": name, "width": int(width), "height": int(height), "fps": float(fps), "sink": sink, "stamp": stamp}
        return {"bytes": len(frame)}

    async def op_shutdown(self, m: dict) -> dict:
        return {"shutdown": True}

    # ------------------------------------------------------------------ internals
    def _state(self) -> dict:
        state = self.backend.state()
        state["step"] = self.step_count
        state["realtimeFactor"] = self.realtime_factor
        return state

    def _advance(self, n: int) -> None:
        self.backend.step(n)
        self.step_count += n
        if self.pending_command is not None:
            self.emit({"event": "actuation", "command": self.pending_command, "at": now_ms(), "simTime": self.backend.time})
            self.pending_command = None
        # Stepped by hand (not running in real time): the camera follows simulated time.
        if not self.running and self.camera is not None and self.backend.time >= self.next_frame_sim:
            self.next_frame_sim = self.backend.time + 1.0 / self.camera["fps"]
            self._frame_now()

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
                wake = await self._tick(dt, start_wall, start_sim, window, next_state, next_frame)
            if wake is None:
                break
            start_wall, window, next_state, next_frame, at = wake
            await asyncio.sleep(max(0.0, at - time.monotonic()))

    async def _tick(self, dt, start_wall, start_sim, window, next_state, next_frame):
        now = time.monotonic()
        owed = int(((now - start_wall) - (self.backend.time - start_sim)) / dt)
        if owed > 0:
            # At most a tenth of a second at once: after a stall the simulation slows, it does not jump.
            steps = min(owed, max(1, int(0.1 / dt)))
            try:
                self._advance(steps)
            except Exception as error:  # noqa: BLE001
                log("error", f"step failed: {error!r}")
                self.running = False
                return None
            if owed > steps:
                start_wall += (owed - steps) * dt
        if now - window[0] >= 0.25:
            self.realtime_factor = (self.backend.time - window[1]) / (now - window[0])
            window = (now, self.backend.time)
        if now >= next_state:
            self.emit({"event": "state", "state": self._state()})
            next_state = max(next_state + 1.0 / self.state_hz, now)
        if self.camera is not None and now >= next_frame:
            await self._frame()
            next_frame = max(next_frame + 1.0 / self.camera["fps"], now)
        wake = min(next_state, next_frame if self.camera else next_state, start_wall + (self.backend.time - start_sim) + dt)
        return start_wall, window, next_state, next_frame, wake

    async def _frame(self) -> None:
        self._frame_now()

    def _frame_now(self) -> None:
        cam = self.camera
        try:
            pixels = self.backend.render(cam["camera"], cam["width"], cam["height"])
        except Exception as error:  # noqa: BLE001
            log("error", f"render failed: {error!r}")
            self.camera = None
            return
        self.frame_seq += 1
        taken = now_ms()
        if cam.get("stamp", True):
            pixels = stamp_frame(pixels, cam["width"], cam["height"], taken)
        if self.sink_address is not None:
            # Straight to the encoder, never through Node; a slow (or restarting) encoder loses
            # frames, never stalls physics.
            if self.sink is None or self.sink.is_closing():
                self.sink = None
                self.frames_dropped += 1
                self._ensure_sink()
            elif self.sink.transport.get_write_buffer_size() > 2 * len(pixels):
                self.frames_dropped += 1
            else:
                self.sink.write(pixels)
            return
        self.emit({"event": "frame", "width": cam["width"], "height": cam["height"], "format": "rgba", "timestamp": taken, "seq": self.frame_seq, "data": pixels})

    def _ensure_sink(self) -> None:
        """(Re)connects to the encoder's TCP input in the background, retrying until it listens."""
        if self.sink_task is not None and not self.sink_task.done():
            return

        async def connect() -> None:
            while self.sink_address is not None and self.sink is None:
                try:
                    _, writer = await asyncio.open_connection(*self.sink_address)
                    self.sink = writer
                except OSError:
                    await asyncio.sleep(0.2)

        self.sink_task = asyncio.get_running_loop().create_task(connect())

    async def _close_sink(self) -> None:
        self.sink_address = None
        if self.sink is not None:
            self.sink.close()
            self.sink = None

    def stop(self) -> None:
        self.running = False
        asyncio.get_running_loop().stop()
