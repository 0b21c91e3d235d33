"""Commands waiting for the step that applies them, each with its deadline and, in the end, its fate.

The rule, in the order the sidecar applies it:

1. An `act` is checked at once (`Backend.prepare`): one the scene cannot use is `refused`.
2. One already past its deadline when it arrives is `expired` and never queued.
3. Queued, it replaces the waiting commands it fully covers (the same actuators, or all of them for a
   freeze): those are `superseded` (`estop` when a freeze replaced a motion command).
4. At the next step each waiting command is judged again: past its deadline, `expired`; otherwise it
   is applied, and once the step has run, `applied`.

A command's deadline is `min(stamp, received) + ttl` on Node's clock: `ttl` from its header (at most
60 s), or the default (the core's `DEFAULT_TTL_MS`, 250 ms) when the header has none; a stamp from
the future buys no extra life. A freeze (the e-stop) never expires, nor does an action that came
without a header (there is nothing to judge it by).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from .backend import PreparedAction
from .errors import SimError

Fate = Literal["applied", "superseded", "expired", "estop", "refused"]
FATES: tuple[Fate, ...] = ("applied", "superseded", "expired", "estop", "refused")
MAX_TTL_MS = 60_000.0
DEFAULT_TTL_MS = 250.0


@dataclass(frozen=True)
class Command:
    action: PreparedAction
    #: The header the command came with (echoed in its report), or None.
    header: dict[str, Any] | None
    #: Node's clock, ms; None: never expires.
    deadline: float | None
    #: When it arrived, Node's clock, ms.
    received: float
    #: Who sent it (its report goes there).
    origin: Any = None

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now > self.deadline


def check_header(header: Any) -> dict[str, Any] | None:
    """The command header of an `act`, checked: None, or a map with a finite `stamp` and, if any, a positive `ttl`."""
    if header is None:
        return None
    if not isinstance(header, dict):
        raise SimError("E_VALIDATION", "command must be a map with seq, stamp and sender", field="command")
    stamp = header.get("stamp")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not math.isfinite(stamp):
        raise SimError(
            "E_VALIDATION",
            "command.stamp must be a finite number (ms on the supervisor's clock)",
            field="command.stamp",
        )
    ttl = header.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not math.isfinite(ttl) or ttl <= 0
    ):
        raise SimError("E_VALIDATION", "command.ttl must be a positive number of ms", field="command.ttl")
    return header


def deadline_of(
    kind: str, header: dict[str, Any] | None, received: float, default_ttl_ms: float = DEFAULT_TTL_MS
) -> float | None:
    """The deadline (Node's clock, ms) of a command that arrived at `received`, or None if it never expires."""
    if kind == "freeze" or header is None:
        return None
    ttl = header.get("ttl")
    life = min(float(ttl), MAX_TTL_MS) if ttl is not None else default_ttl_ms
    return min(float(header["stamp"]), received) + life


class CommandQueue:
    """The commands waiting for the next step, oldest first."""

    def __init__(self) -> None:
        self._waiting: list[Command] = []

    def __len__(self) -> int:
        return len(self._waiting)

    def submit(self, command: Command) -> list[tuple[Command, Fate]]:
        """Queues `command`; returns the waiting ones it replaced, each with its fate."""
        replaced: list[tuple[Command, Fate]] = []
        kept: list[Command] = []
        freeze = command.action.kind == "freeze"
        for waiting in self._waiting:
            if command.action.covers(waiting.action):
                replaced.append((waiting, "estop" if freeze and waiting.action.kind != "freeze" else "superseded"))
            else:
                kept.append(waiting)
        kept.append(command)
        self._waiting = kept
        return replaced

    def take(self, now: float) -> tuple[list[Command], list[Command]]:
        """Empties the queue at a step: (the commands to apply, in order; those past their deadline)."""
        due = [c for c in self._waiting if not c.expired(now)]
        late = [c for c in self._waiting if c.expired(now)]
        self._waiting = []
        return due, late

    def clear(self) -> list[Command]:
        """Empties the queue (a reset, a new scene, a restored snapshot), returning what was waiting."""
        waiting, self._waiting = self._waiting, []
        return waiting
