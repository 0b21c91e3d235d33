"""The sidecar's log: one `<level> <message>` line on stderr (the supervisor reads that pipe)."""

from __future__ import annotations

from . import console


def log(level: str, message: str) -> None:
    try:
        print(f"{level} {message}", file=console.err(), flush=True)
    except (OSError, ValueError):
        # The supervisor, which reads this pipe, is gone: the sidecar goes on stopping the robot regardless.
        pass
