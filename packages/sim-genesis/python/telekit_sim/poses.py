"""The pose snapshot: a simulation's state in terms any engine can take (CONVENTIONS.md beside the scenes).

A byte snapshot restores only into the engine that took it. A pose snapshot carries what another
engine needs to be corrected toward this one: every body's pose and velocity in the world frame and
every hinge and slide joint's position and velocity, by name. It is UTF-8 JSON:

    {"format": "telekit.poses/1",
     "bodies": [{"name", "position": [x, y, z], "orientation": [w, x, y, z],
                 "linear": [vx, vy, vz], "angular": [wx, wy, wz]}, ...],
     "joints": [{"name", "position", "velocity"}, ...]}

Positions are of the body's frame origin, m; velocities are of that origin, m/s, and angular ones in
rad/s, both along the world axes. Joint positions are rad (hinges) or m (slides).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

FORMAT = "telekit.poses/1"


def encode(bodies: Sequence[dict[str, Any]], joints: Sequence[dict[str, Any]]) -> bytes:
    """The pose snapshot's bytes; NaN or infinity anywhere is a `ValueError` (it must never reach a page)."""
    return json.dumps(
        {"format": FORMAT, "bodies": list(bodies), "joints": list(joints)}, separators=(",", ":"), allow_nan=False
    ).encode()


def body(
    name: str,
    position: Sequence[float],
    orientation: Sequence[float],
    linear: Sequence[float],
    angular: Sequence[float],
) -> dict[str, Any]:
    return {
        "name": name,
        "position": [float(v) for v in position],
        "orientation": [float(v) for v in orientation],
        "linear": [float(v) for v in linear],
        "angular": [float(v) for v in angular],
    }


def decode(data: bytes) -> dict[str, Any]:
    """The snapshot's fields, or `ValueError` when `data` is not a pose snapshot."""
    value = json.loads(data.decode())
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} snapshot")
    return value
