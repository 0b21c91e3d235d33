"""The camera and its frames: what `camera` turns on, when a frame is rendered, and where it goes.

The camera renders only while it is on, and with a TCP sink (`tcp:host:port`, the encoder's input)
only while connected to it: frames then go straight to the encoder, never through Node, and a slow
(or restarting) encoder loses frames rather than stalling the physics. Otherwise each frame goes to
every client as a `frame` event. Running in real time the run loop asks for frames at the camera's
rate (`tick`); stepped by hand, the camera follows simulated time (`after_step`). The counters and
the recent frames are what `perf` reports (`perf.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .backend import Backend, RenderOptions
from .clock import NodeClock
from .errors import SimError
from .log import log
from .perf import FrameLog

#: How soon to try the camera's sink (the encoder's input) again while it is not listening yet, s.
SINK_RETRY_S = 0.02
#: A backend that renders on its physics thread gets a frame at least this often, s (see `waits`).
CAMERA_FLOOR_S = 1.0


class CameraStream:
    def __init__(self, backend: Backend, clock: NodeClock, emit: Callable[[dict[str, Any]], None]) -> None:
        self.backend = backend
        self.clock = clock
        self.emit = emit
        #: The camera as `camera` turned it on (None: off).
        self.camera: dict[str, Any] | None = None
        self.frame_seq = 0
        self.sink: asyncio.StreamWriter | None = None
        self.frames_dropped = 0
        self.frames_rendered = 0
        #: Render the next frame now rather than at its time (the camera or its sink just came up).
        self.frame_now = False
        #: Connections made to the camera's sink so far, and frames sent on the current one.
        self.sink_connection = 0
        self.sink_index = 0
        self.frame_log = FrameLog()
        self.sink_address: tuple[str, int] | None = None
        self.sink_task: asyncio.Task[None] | None = None
        self.frame_task: asyncio.Task[None] | None = None
        #: When the last frame finished rendering (monotonic, s) and how long it took, s.
        self.last_frame_end = 0.0
        self.last_render_s = 0.0
        self.next_frame_sim = 0.0

    async def configure(self, m: dict[str, Any]) -> None:
        """Starts (or, with `enabled: false`, stops) the camera. Off, nothing renders.

        With a `tcp:host:port` sink the sidecar renders only while it is connected to the sink (the
        encoder's input): its first frame goes out as soon as the connection is made. With
        `prepare: true` it only has the renderer made in the background (a software GL context takes
        a few hundred ms), so the first viewer does not wait for it: the camera stays as it was.
        Nothing here waits for a render (the loop's steps would wait with it).
        """
        if not m.get("enabled", True):
            self.camera = None
            await self.close_sink()
            return
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
            return
        await self.close_sink()
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

    def _prepare(self, camera: str | None, width: int, height: int, options: RenderOptions) -> None:
        """Renders one frame in the background, only to make the renderer; a failure is logged."""
        done = asyncio.wrap_future(self.backend.render(camera, width, height, options))

        def report(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log("warn", f"preparing the camera failed: {task.exception()!r}")

        done.add_done_callback(report)

    def counters(self) -> dict[str, Any]:
        """The camera part of `perf`."""
        cam = self.camera
        return {
            "on": cam is not None,
            "fps": cam["fps"] if cam else 0,
            "connected": self.sink is not None,
            "connection": self.sink_connection,
            "rendered": self.frames_rendered,
            "sent": self.frame_seq,
            "dropped": self.frames_dropped,
        }

    def tick(self, now: float, next_frame: float, behind: bool) -> float:
        """The run loop's turn (running in real time): starts the frame due now, if any, without
        waiting for it; returns when the next frame is due."""
        if self.camera is None or not (now >= next_frame or self.frame_now):
            return next_frame
        if self.sink_address is not None and self.sink is None:
            # Not connected to the encoder yet: nothing renders, and the connection brings a
            # frame at once (`frame_now`).
            return now
        if self.waits(now, behind):
            self.frames_dropped += 1  # the physics comes first
        elif self.frame_task is None or self.frame_task.done():
            self.frame_now = False
            self.frame_task = asyncio.get_running_loop().create_task(self.frame())
        else:
            self.frames_dropped += 1  # the previous frame is still rendering
        # The camera's rate and no more: the next frame is one interval on, never sooner.
        return max(next_frame + 1.0 / self.camera["fps"], now)

    async def after_step(self) -> None:
        """Stepped by hand (not running in real time): the camera follows simulated time, and the
        answer waits for the frame (the loop does not: it renders on the backend's GL thread)."""
        if self.camera is not None and self.backend.time >= self.next_frame_sim:
            self.next_frame_sim = self.backend.time + 1.0 / self.camera["fps"]
            await self.frame()

    def waits(self, now: float, behind: bool) -> bool:
        """Whether a frame due now waits, so that the physics keeps real time. Only for a backend
        that renders on its physics thread (`renders_on_physics_thread`: Genesis), whose steps stop
        while it renders: no frame while the physics is behind, nor sooner after the last frame
        than that frame took to render (the camera has at most half the thread), but a frame at
        least every `CAMERA_FLOOR_S` whatever the physics, so that the picture never stops.
        Elsewhere rendering runs beside the physics and a frame never waits."""
        if not self.backend.renders_on_physics_thread:
            return False
        if now >= self.last_frame_end + CAMERA_FLOOR_S:
            return False
        return behind or now < self.last_frame_end + self.last_render_s

    async def frame(self) -> None:
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

    async def close_sink(self) -> None:
        self.sink_address = None
        if self.sink is not None:
            self.sink.close()
            self.sink = None

    def cancel(self) -> None:
        """Stops connecting to the sink and the frame rendering now (the sidecar is closing)."""
        for task in (self.sink_task, self.frame_task):
            if task is not None:
                task.cancel()
