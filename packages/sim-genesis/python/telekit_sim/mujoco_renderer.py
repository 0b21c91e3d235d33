"""MuJoCo's offscreen rendering on a thread of its own (`telekit-gl`), which owns the GL context and
the renderer: a frame (~10–30 ms on a CPU) never holds up the sidecar's loop, which keeps serving
commands, pings and the deadman meanwhile. The renderer is made again only when the model, the size
or the multisampling changes.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from .backend import RenderOptions, picture

os.environ.setdefault("MUJOCO_GL", "osmesa")

import mujoco  # noqa: E402  (MUJOCO_GL must be set first)


class GlRenderer:
    def __init__(self) -> None:
        self._gl = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telekit-gl")
        self._renderer: mujoco.Renderer | None = None
        self._renderer_key: tuple[Any, ...] | None = None
        self._render_tids: frozenset[int] = frozenset()

    def submit(
        self, model: Any, data: Any, camera: str | None, width: int, height: int, options: RenderOptions
    ) -> Future[np.ndarray]:
        """Renders `data` (a copy the simulation no longer steps) on the GL thread: the picture on the future."""
        return self._gl.submit(self._render, model, data, camera, width, height, options)

    def threads(self) -> frozenset[int]:
        """The native id of the GL thread, once it has rendered."""
        return self._render_tids

    def _render(
        self, model: Any, data: Any, camera: str | None, width: int, height: int, options: RenderOptions
    ) -> np.ndarray:
        # On the GL thread only: the renderer and its context live here.
        self._render_tids = frozenset({threading.get_native_id()})
        r = self._renderer
        key = (model, width, height, options.samples)
        if r is None or self._renderer_key != key:
            if r is not None:
                r.close()
            # Multisampling is fixed when the GL context's framebuffer is made. The model's visual
            # settings touch only rendering, never the physics that steps it meanwhile.
            model.vis.quality.offsamples = options.samples
            r = self._renderer = mujoco.Renderer(model, height, width)
            self._renderer_key = key
        r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = options.shadows
        r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = options.reflections
        r.update_scene(data, camera=camera if camera else -1)
        return picture(r.render(), options)

    def _close_renderer(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def close(self) -> None:
        """Closes the renderer on its thread, then ends the thread (waiting for a frame in progress)."""
        self._gl.submit(self._close_renderer)
        self._gl.shutdown(wait=True)
