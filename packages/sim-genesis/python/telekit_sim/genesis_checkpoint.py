"""Snapshots of a Genesis scene: Genesis's own checkpoint of the simulation (every array a step reads
from one step to the next: bit-exact) with Telekit's fields beside it (the step count, the time, the
actuators' control inputs), written as a NumPy archive so that no pickle crosses the wire; and
restoring one into the same scene on the same engine.

`snapshot` and `restore` call into Genesis: on the Genesis thread only. `open_snapshot` checks a
snapshot before that, on any thread.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .errors import SimError
from .genesis_scene import GenesisScene

#: Where a snapshot's Telekit fields are kept among the engine's arrays.
_OWN = "telekit"


def _numpy(array: Any) -> np.ndarray:
    """A checkpoint array (a torch tensor or a NumPy array) as a NumPy array on the host."""
    if isinstance(array, np.ndarray):
        return array
    return array.detach().cpu().numpy()


def snapshot(s: GenesisScene, engine: str) -> dict[str, Any]:
    # Genesis's own checkpoint of the simulation (every array a step reads from one step to the
    # next: bit-exact), written as a NumPy archive: no pickle crosses the wire.
    checkpoint = s.scene.sim.__getstate__()
    arrays: dict[str, np.ndarray] = {
        f"{_OWN}|steps": np.asarray(_numpy(checkpoint.steps)),
        f"{_OWN}|time": np.array([s.time]),
        f"{_OWN}|ctrl": s.ctrl.copy(),
    }
    for solver, state in checkpoint.solvers.items():
        for name, array in state.arrays.items():
            arrays[f"{solver}|{name}"] = _numpy(array)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return {"scene": s.id, "engine": engine, "time": s.time, "data": buffer.getvalue()}


def open_snapshot(s: GenesisScene, engine: str, snapshot: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a snapshot taken of this scene on this engine, or a `SimError` (`E_SIM_SNAPSHOT`)."""
    if snapshot.get("scene") != s.id:
        raise SimError(
            "E_SIM_SNAPSHOT", f"snapshot is from scene {snapshot.get('scene')}, this is {s.id}", field="scene"
        )
    if snapshot.get("engine") != engine:
        raise SimError("E_SIM_SNAPSHOT", f"snapshot is from {snapshot.get('engine')}, this is {engine}", field="engine")
    data = snapshot.get("data")
    if not isinstance(data, (bytes, bytearray)):
        raise SimError("E_SIM_SNAPSHOT", "snapshot data must be bytes", field="data")
    try:
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001 - not an archive, or a damaged one
        raise SimError("E_SIM_SNAPSHOT", f"snapshot data is not a Genesis checkpoint: {error}", field="data") from error


def restore(s: GenesisScene, arrays: dict[str, np.ndarray]) -> None:
    """Puts the scene back where the snapshot's `arrays` (from `open_snapshot`) were taken."""
    import torch

    checkpoint = s.scene.sim.__getstate__()
    own = {f"{_OWN}|steps", f"{_OWN}|time", f"{_OWN}|ctrl"}
    expected = {f"{solver}|{name}" for solver, state in checkpoint.solvers.items() for name in state.arrays} | own
    if set(arrays) != expected:
        raise SimError(
            "E_SIM_SNAPSHOT",
            f"snapshot data does not fit scene {s.id} ({len(arrays)} arrays, {len(expected)} expected): another model under the same name?",
            field="data",
        )
    for solver, state in checkpoint.solvers.items():
        for name, current in state.arrays.items():
            value = arrays[f"{solver}|{name}"]
            if tuple(value.shape) != tuple(current.shape):
                raise SimError(
                    "E_SIM_SNAPSHOT",
                    f"snapshot array {solver}.{name} has shape {tuple(value.shape)}, this scene {tuple(current.shape)}",
                    field="data",
                )
            state.arrays[name] = (
                torch.as_tensor(value, device=current.device).to(current.dtype)
                if isinstance(current, torch.Tensor)
                else value.astype(current.dtype)
            )
    ctrl = arrays[f"{_OWN}|ctrl"]
    if ctrl.shape != s.ctrl.shape:
        raise SimError(
            "E_SIM_SNAPSHOT",
            f"snapshot has {ctrl.shape[0]} actuator inputs, scene {s.id} has {s.ctrl.shape[0]}",
            field="data",
        )
    steps = arrays[f"{_OWN}|steps"]
    checkpoint.steps = (
        torch.as_tensor(steps, device=checkpoint.steps.device) if isinstance(checkpoint.steps, torch.Tensor) else steps
    )
    s.scene.sim.__setstate__(checkpoint)
    s.ctrl = ctrl.astype(np.float64)
    s.apply_ctrl()
    s.time = float(arrays[f"{_OWN}|time"][0])
