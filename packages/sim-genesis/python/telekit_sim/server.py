"""The sidecar server: one simulation, driven over framed msgpack by the TS plugin.

Requests carry an `id` and an `op`; each gets exactly one answer with the same `id`:
`{"id", "ok": true, ...}` or `{"id", "ok": false, "error": {"code", "message", "file"?, "line"?, "field"?}}`.
Events carry `event` instead: `state`, `frame`, `deadman`, `progress` (to every client) and
`actuation` (to the command's sender). See the package README.

With a token configured, a connection's first request must be `hello` with that token; anything
else (or a wrong token) is answered with `E_UNAUTHORIZED` and the connection closed. Until then a
frame may be at most 64 KiB, and a connection that has not said hello within 5 s is closed.

Commands (`act`) wait for the step that applies them; `commands.py` states the rule and the fates.
The deadman (`deadman.py`) and the parent watch (`lifeline.py`) stop the robot by themselves.
The camera renders only while it is on (`camera`), and with a TCP sink only while connected to it;
`perf` reports the CPU by part and the camera's recent frames (`perf.py`).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import PROTOCOL, __version__, console
from .backend import Backend, Motion, RenderOptions
from .clock import NodeClock
from .commands import DEFAULT_TTL_MS, FATES, Command, CommandQueue, Fate, check_header, deadline_of
from .deadman import Deadman, DeadmanConfig, Trip
from .errors import SimError
from .framing import MAX_FRAME, FrameError, encode_frame, read_frame
from .lifeline import ParentWatch, Trace
from .perf import CpuMeter, FrameLog

# Answered at once, whatever else is running.
LOCK_FREE = {"hello", "ping", "shutdown", "stats", "perf"}
PRE_AUTH_MAX_FRAME = 64 * 1024
HELLO_TIMEOUT_S = 5.0
#: How often the deadman and the parent watch look, s.
WATCH_PERIOD_S = 0.02
#: How soon to try the camera's sink (the encoder's input) again while it is not listening yet, s.
SINK_RETRY_S = 0.02
#: While a scene loads, its progress is sent again this often (the step it is at, and for how long).
PROGRESS_REPEAT_S = 5.0
#: A `step` of many steps gives the loop a turn this often, s: pings are answered meanwhile (a Genesis
#: step on a CPU takes milliseconds, so `step(1000)` lasts seconds, longer than the supervisor waits).
STEP_TURN_S = 0.02
#: A backend that renders on its physics thread gets a frame at least this often, s (see `_camera_waits`).
CAMERA_FLOOR_S = 1.0


def log(level: str, message: str) -> None:
    try:
        print(f"{level} {message}", file=console.err(), flush=True)
    except (OSError, ValueError):
        # The supervisor, which reads this pipe, is gone: the sidecar goes on stopping the robot regardless.
        pass


@dataclass(frozen=True)
class SidecarConfig:
    #: The per-run token a connection must show in `hello`; None: none needed (a private Unix socket).
    token: str | None = None
    deadman: DeadmanConfig = field(default_factory=DeadmanConfig)
    #: The deadline of a command whose header has no `ttl`, ms (the core's `DEFAULT_TTL_MS`).
    default_ttl_ms: float = DEFAULT_TTL_MS
    #: After its parent died: how long the robot may take to come to rest before the sidecar exits, s.
    stop_grace_s: float = 1.0


class Client:
    """One connection."""

    def __init__(self, writer: asyncio.StreamWriter, authenticated: bool) -> None:
        self.writer = writer
        self.authenticated = authenticated
        self.close_after_reply = False


@dataclass(frozen=True)
class Request:
    message: dict[str, Any]
    client: Client
    #: When the request arrived, `time.monotonic()` s.
    received: float


Op = Callable[[Request], Awaitable[dict[str, Any]]]


class Sidecar:
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
        self.queue = CommandQueue()
        self.fates: dict[str, int] = {fate: 0 for fate in FATES}
        self.oldest_applied_ms = 0.0
        self.clients: set[Client] = set()
        self.running = False
        self.loading = False
        #: The scene loaded (None until one is): a sidecar without a scene is not ready to drive.
        self.scene_id: str | None = None
        self.winding_down = False
        self.loop_task: asyncio.Task[None] | None = None
        self.watch_task: asyncio.Task[None] | None = None
        self.state_hz = 50.0
        self.camera: dict[str, Any] | None = None
        self.frame_seq = 0
        self.step_count = 0
        self.realtime_factor = 0.0
        self.sink: asyncio.StreamWriter | None = None
        self.frames_dropped = 0
        self.frames_rendered = 0
        #: Render the next frame now rather than at its time (the camera or its sink just came up).
        self.frame_now = False
        #: Connections made to the camera's sink so far, and frames sent on the current one.
        self.sink_connection = 0
        self.sink_index = 0
        self.cpu = CpuMeter()
        self.frame_log = FrameLog()
        self.sink_address: tuple[str, int] | None = None
        self.sink_task: asyncio.Task[None] | None = None
        self.frame_task: asyncio.Task[None] | None = None
        #: When the last frame finished rendering (monotonic, s) and how long it took, s.
        self.last_frame_end = 0.0
        self.last_render_s = 0.0
        self.next_frame_sim = 0.0
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

    # ------------------------------------------------------------------ plumbing
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

    def emit(self, message: dict[str, Any]) -> None:
        frame = encode_frame(message)
        for client in list(self.clients):
            writer = client.writer
            # A client that does not read loses events rather than stalling the simulation.
            if (
                not client.authenticated
                or writer.is_closing()
                or writer.transport.get_write_buffer_size() > 32 * 1024 * 1024
            ):
                continue
            writer.write(frame)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = Client(writer, authenticated=self.config.token is None)
        self.clients.add(client)
        loop = asyncio.get_running_loop()
        deadline = (
            None
            if client.authenticated
            else loop.call_later(HELLO_TIMEOUT_S, lambda: client.authenticated or writer.close())
        )
        try:
            while not writer.is_closing():
                try:
                    message = await read_frame(reader, MAX_FRAME if client.authenticated else PRE_AUTH_MAX_FRAME)
                except FrameError as error:
                    writer.write(
                        encode_frame({"id": None, "ok": False, "error": {"code": "E_PROTOCOL", "message": str(error)}})
                    )
                    break
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    # The peer went, or the sidecar is shutting down: nothing to report.
                    break
                received = time.monotonic()
                if not client.authenticated:
                    # Nothing but a hello until it is in, one request at a time.
                    await self._reply(message, client, received)
                    if not client.authenticated:
                        break
                    continue
                # Each request runs as its own task, so that `ping` is answered while a long one
                # (Genesis compiling a scene) runs; the backend lock keeps the others in order.
                task = loop.create_task(self._reply(message, client, received))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        finally:
            if deadline is not None:
                deadline.cancel()
            self.clients.discard(client)
            writer.close()

    async def _reply(self, message: Any, client: Client, received: float) -> None:
        reply = await self.handle(message, client, received)
        writer = client.writer
        if writer.is_closing():
            return
        writer.write(encode_frame(reply))
        try:
            await writer.drain()
        except ConnectionError:
            return
        if client.close_after_reply:
            writer.close()
        if reply.get("shutdown"):
            asyncio.get_running_loop().call_soon(self.shutdown_now)

    async def handle(self, message: Any, client: Client, received: float) -> dict[str, Any]:
        if not isinstance(message, dict):
            client.close_after_reply = not client.authenticated
            return {
                "id": None,
                "ok": False,
                "error": {"code": "E_PROTOCOL", "message": "a request must be a map with id and op"},
            }
        request_id = message.get("id")
        op = message.get("op")
        try:
            handler = self.ops.get(op) if isinstance(op, str) else None
            if handler is None:
                raise SimError("E_UNKNOWN_OP", f"unknown op {op!r}", field="op")
            if not client.authenticated and op != "hello":
                client.close_after_reply = True
                raise SimError("E_UNAUTHORIZED", "say hello with the token first", field="token")
            request = Request(message, client, received)
            if op in LOCK_FREE:
                result = await handler(request)
            else:
                async with self.lock:
                    result = await handler(request)
            return {"id": request_id, "ok": True, **result}
        except SimError as error:
            client.close_after_reply = client.close_after_reply or not client.authenticated
            return {"id": request_id, "ok": False, "error": error.to_wire()}
        except (TypeError, ValueError, KeyError, IndexError) as error:
            return {
                "id": request_id,
                "ok": False,
                "error": {"code": "E_VALIDATION", "message": f"bad {op} request: {error}"},
            }
        except Exception as error:  # noqa: BLE001 - nothing a client sends may kill the sidecar
            log("error", f"{op} failed: {error!r}")
            return {"id": request_id, "ok": False, "error": {"code": "E_INTERNAL", "message": f"{op} failed: {error}"}}

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
            "fates": dict(self.fates),
            "deadmanTrips": self.deadman.trips,
            "waiting": len(self.queue),
            "oldestAppliedMs": self.oldest_applied_ms,
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
        self._drop_waiting("superseded")
        self.step_count = 0
        report("ready", f"{scene_id} ready in {time.monotonic() - started:.1f} s")
        return {"scene": info}

    async def op_reset(self, r: Request) -> dict[str, Any]:
        self.backend.reset()
        self.step_count = 0
        self._drop_waiting("superseded")
        self.deadman.rearm(time.monotonic())
        return {}

    async def op_step(self, r: Request) -> dict[str, Any]:
        n = r.message.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 1_000_000:
            raise SimError("E_VALIDATION", "n must be an integer from 1 to 1000000", field="n")
        await self._advance_in_turns(n)
        state = self._state()
        # Stepped by hand (not running in real time): the camera follows simulated time, and the
        # answer waits for the frame (the loop does not: it renders on the backend's GL thread).
        if not self.running and self.camera is not None and self.backend.time >= self.next_frame_sim:
            self.next_frame_sim = self.backend.time + 1.0 / self.camera["fps"]
            await self._frame()
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
        # A malformed header cannot be reported on (there is nothing to name the command by): error only.
        header = check_header(r.message.get("command"))
        action = r.message.get("action")
        kind = action.get("kind") if isinstance(action, dict) else None
        try:
            if not isinstance(action, dict):
                raise SimError("E_VALIDATION", "action must be a map with a kind", field="action")
            if self.winding_down:
                raise SimError("E_SIM_STOPPING", "the sidecar is stopping the robot and exiting: no new commands")
            prepared = self.backend.prepare(action)
        except Exception:
            self._report(
                header, kind if isinstance(kind, str) else None, "refused", r.client, self.clock.at(r.received)
            )
            raise
        received = self.clock.at(r.received)
        command = Command(
            prepared,
            header,
            deadline_of(prepared.kind, header, received, self.config.default_ttl_ms),
            received,
            r.client,
        )
        if command.expired(self.clock.now()):
            self._report_command(command, "expired")
            return {"fate": "expired"}
        for replaced, fate in self.queue.submit(command):
            self._report_command(replaced, fate)
        return {}

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
        describe = getattr(self.backend, "describe_scene", None)
        if describe is None:
            raise SimError("E_SIM_BACKEND", f"the {self.backend.name} backend does not describe its scene")
        return {"description": describe()}

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
        self._drop_waiting("superseded")
        # A restored snapshot brings its actuator targets back: they move nothing without a fresh command.
        self.deadman.rearm(time.monotonic())
        return {}

    async def op_camera(self, r: Request) -> dict[str, Any]:
        """Starts (or, with `enabled: false`, stops) the camera. Off, nothing renders.

        With a `tcp:host:port` sink the sidecar renders only while it is connected to the sink (the
        encoder's input): its first frame goes out as soon as the connection is made. With
        `prepare: true` it only has the renderer made in the background (a software GL context takes
        a few hundred ms), so the first viewer does not wait for it: the camera stays as it was.
        Nothing here waits for a render (the loop's steps would wait with it).
        """
        m = r.message
        if not m.get("enabled", True):
            self.camera = None
            await self._close_sink()
            return {}
        width, height, fps = m.get("width", 640), m.get("height", 480), m.get("fps", 30)
        for name, value, top in (("width", width, 4096), ("height", height, 4096), ("fps", fps, 240)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= top:
                raise SimError("E_VALIDATION", f"{name} must be a number in (0, {top}]", field=name)
        camera = m.get("camera")
        if camera is not None and not isinstance(camera, str):
            raise SimError("E_VALIDATION", "camera must be the name of a camera in the scene", field="camera")
        fmt = m.get("format", "rgba")
        if fmt not in ("rgb", "rgba"):
            raise SimError("E_VALIDATION", "format must be 'rgb' or 'rgba'", field="format")
        samples = m.get("samples", 0)
        if isinstance(samples, bool) or not isinstance(samples, int) or not 0 <= samples <= 16:
            raise SimError("E_VALIDATION", "samples must be an integer from 0 to 16", field="samples")
        flags = {}
        for name in ("shadows", "reflections", "stamp"):
            value = m.get(name, name == "stamp")
            if not isinstance(value, bool):
                raise SimError("E_VALIDATION", f"{name} must be a boolean", field=name)
            flags[name] = value
        options = RenderOptions(format=fmt, samples=samples, shadows=flags["shadows"], reflections=flags["reflections"])
        self.backend.check_camera(camera, int(width), int(height))  # fails early on a bad camera
        if m.get("prepare", False) is True:
            self._prepare(camera, int(width), int(height), options)
            return {}
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
        self.camera = {
            "camera": camera,
            "width": int(width),
            "height": int(height),
            "fps": float(fps),
            "sink": sink,
            "stamp": flags["stamp"],
            "options": options,
        }
        self.frame_now = True
        return {}

    def _prepare(self, camera: str | None, width: int, height: int, options: RenderOptions) -> None:
        """Renders one frame in the background, only to make the renderer; a failure is logged."""
        done = asyncio.wrap_future(self.backend.render(camera, width, height, options))

        def report(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log("warn", f"preparing the camera failed: {task.exception()!r}")

        done.add_done_callback(report)

    async def op_perf(self, r: Request) -> dict[str, Any]:
        """CPU by part and the camera's frames after `since` (see `perf.py`)."""
        since = r.message.get("since", 0)
        if isinstance(since, bool) or not isinstance(since, int):
            raise SimError("E_VALIDATION", "since must be a frame number", field="since")
        cam = self.camera
        return {
            "cpu": self.cpu.sample(self.backend.render_threads()),
            "camera": {
                "on": cam is not None,
                "fps": cam["fps"] if cam else 0,
                "connected": self.sink is not None,
                "connection": self.sink_connection,
                "rendered": self.frames_rendered,
                "sent": self.frame_seq,
                "dropped": self.frames_dropped,
            },
            "frames": self.frame_log.since(since),
        }

    async def op_shutdown(self, r: Request) -> dict[str, Any]:
        return {"shutdown": True}

    # ------------------------------------------------------------------ commands and their fates
    def _report(
        self,
        header: dict[str, Any] | None,
        kind: str | None,
        fate: Fate,
        client: Client | None,
        received: float | None = None,
        applied_sim_time: float | None = None,
    ) -> None:
        """Counts a command's fate and tells its sender (only its sender: reports are per command, not news).

        `at` is when it took effect (or was dropped) and `receivedAt` when its `act` arrived, both on
        Node's clock: `at - receivedAt` is the wait for the step, the supervisor's latency budget.
        An applied command's `appliedSimTime` is the simulated time it acted from (the start of the
        step that applied it), so that a browser predicting this simulation can put it at that step.
        """
        self.fates[fate] += 1
        if header is None or client is None or client not in self.clients or client.writer.is_closing():
            return
        event: dict[str, Any] = {
            "event": "actuation",
            "command": header,
            "kind": kind,
            "fate": fate,
            "at": self.clock.now(),
            "simTime": self.backend.time,
        }
        if received is not None:
            event["receivedAt"] = received
        if applied_sim_time is not None:
            event["appliedSimTime"] = applied_sim_time
        client.writer.write(encode_frame(event))

    def _report_command(self, command: Command, fate: Fate, applied_sim_time: float | None = None) -> None:
        origin = command.origin if isinstance(command.origin, Client) else None
        self._report(command.header, command.action.kind, fate, origin, command.received, applied_sim_time)

    def _drop_waiting(self, fate: Fate) -> None:
        for command in self.queue.clear():
            self._report_command(command, fate)

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
        now_mono = time.monotonic()
        now = self.clock.at(now_mono)
        due, late = self.queue.take(now)
        for command in late:
            self._report_command(command, "expired")
        silent = self.deadman.heartbeat_lost(now_mono)
        applied: list[Command] = []
        for command in due:
            if silent and command.action.kind != "freeze":
                # The supervisor (its safety gate, lease and e-stop) has gone quiet: nothing moves until it is back.
                self._report_command(command, "refused")
                continue
            try:
                command.action.apply()
            except Exception as error:  # noqa: BLE001 - a command the engine rejects must not stop the simulation
                log("error", f"applying a {command.action.kind} command failed: {error!r}")
                self._report_command(command, "refused")
                continue
            applied.append(command)
            self.deadman.command(now_mono)
            if command.header is not None:
                self.oldest_applied_ms = max(self.oldest_applied_ms, now - float(command.header["stamp"]))
        started = time.thread_time()
        applied_from = self.backend.time
        try:
            self.backend.step(n)
        except Exception:
            for command in applied:
                self._report_command(command, "refused")
            raise
        self.cpu.physics(started)
        self.step_count += n
        for command in applied:
            self._report_command(command, "applied", applied_from)

    # ------------------------------------------------------------------ stopping by itself
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
        self._drop_waiting("refused")
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
        self._drop_waiting("refused")
        self._stop_motion()
        self.trace.write("exit", self.backend.time, self._motion(), reason="shutdown")
        self.on_exit()

    async def close(self) -> None:
        self.running = False
        self._stop_motion()
        for task in (self.watch_task, self.loop_task, self.sink_task, self.frame_task):
            if task is not None:
                task.cancel()
        for client in list(self.clients):
            client.writer.close()
        self.backend.close()
        self.trace.close()

    # ------------------------------------------------------------------ internals
    def _state(self) -> dict[str, Any]:
        state = self.backend.state()
        state["step"] = self.step_count
        state["realtimeFactor"] = self.realtime_factor
        return state

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
        if self.camera is not None and (now >= next_frame or self.frame_now):
            if self.sink_address is not None and self.sink is None:
                # Not connected to the encoder yet: nothing renders, and the connection brings a
                # frame at once (`frame_now`).
                next_frame = now
            else:
                if self._camera_waits(now, behind):
                    self.frames_dropped += 1  # the physics comes first
                elif self.frame_task is None or self.frame_task.done():
                    self.frame_now = False
                    self.frame_task = asyncio.get_running_loop().create_task(self._frame())
                else:
                    self.frames_dropped += 1  # the previous frame is still rendering
                # The camera's rate and no more: the next frame is one interval on, never sooner.
                next_frame = max(next_frame + 1.0 / self.camera["fps"], now)
        wake = min(
            next_state, next_frame if self.camera else next_state, start_wall + (self.backend.time - start_sim) + dt
        )
        return start_wall, window, next_state, next_frame, wake

    def _camera_waits(self, now: float, behind: bool) -> bool:
        """Whether a frame due now waits, so that the physics keeps real time. Only for a backend
        that renders on its physics thread (`renders_on_physics_thread`: Genesis), whose steps stop
        while it renders: no frame while the physics is behind, nor sooner after the last frame
        than that frame took to render (the camera has at most half the thread), but a frame at
        least every `CAMERA_FLOOR_S` whatever the physics, so that the picture never stops.
        Elsewhere rendering runs beside the physics and a frame never waits."""
        if not getattr(self.backend, "renders_on_physics_thread", False):
            return False
        if now >= self.last_frame_end + CAMERA_FLOOR_S:
            return False
        return behind or now < self.last_frame_end + self.last_render_s

    async def _frame(self) -> None:
        """Renders the camera's view of this moment (on the backend's GL thread) and sends it on."""
        cam = self.camera
        if cam is None:
            return
        taken = self.clock.now()
        options: RenderOptions = cam["options"]
        if cam["stamp"]:
            options = replace(options, stamp_ms=taken)
        started = time.monotonic()
        try:
            pixels = await asyncio.wrap_future(self.backend.render(cam["camera"], cam["width"], cam["height"], options))
        except Exception as error:  # noqa: BLE001
            log("error", f"render failed: {error!r}")
            self.camera = None
            return
        self.last_frame_end = time.monotonic()
        self.last_render_s = self.last_frame_end - started
        self.frames_rendered += 1
        rendered = self.clock.now()
        if self.camera is not cam:
            return  # turned off or changed meanwhile
        if self.sink_address is not None:
            # Straight to the encoder, never through Node; a slow (or restarting) encoder loses
            # frames, never stalls physics.
            sink = self.sink
            if sink is None or sink.is_closing():
                self.sink = None
                self.frames_dropped += 1
                self._ensure_sink()
            elif sink.transport.get_write_buffer_size() > 2 * pixels.nbytes:
                self.frames_dropped += 1
            else:
                sink.write(memoryview(pixels.reshape(-1)))
                self.frame_seq += 1
                self.frame_log.add(
                    self.frame_seq, self.sink_connection, self.sink_index, taken, rendered, self.clock.now()
                )
                self.sink_index += 1
            return
        self.frame_seq += 1
        self.emit(
            {
                "event": "frame",
                "width": cam["width"],
                "height": cam["height"],
                "format": options.format,
                "timestamp": taken,
                "seq": self.frame_seq,
                "data": pixels.tobytes(),
            }
        )
        self.frame_log.add(self.frame_seq, 0, self.frame_seq - 1, taken, rendered, self.clock.now())

    def _ensure_sink(self) -> None:
        """(Re)connects to the encoder's TCP input in the background, retrying until it listens."""
        if self.sink_task is not None and not self.sink_task.done():
            return

        async def connect() -> None:
            while self.sink_address is not None and self.sink is None:
                try:
                    _, writer = await asyncio.open_connection(*self.sink_address)
                except OSError:
                    # The encoder is starting (ffmpeg listens within a few tens of ms): look again soon.
                    await asyncio.sleep(SINK_RETRY_S)
                    continue
                if self.sink_address is None:
                    writer.close()
                    return
                self.sink = writer
                self.sink_connection += 1
                self.sink_index = 0
                self.frame_now = True

        self.sink_task = asyncio.get_running_loop().create_task(connect())

    async def _close_sink(self) -> None:
        self.sink_address = None
        if self.sink is not None:
            self.sink.close()
            self.sink = None
