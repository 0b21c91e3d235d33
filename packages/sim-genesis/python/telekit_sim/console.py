"""The sidecar's own stdout and stderr: the `listening` line its supervisor waits for, and its log.

Genesis redirects output for the whole process, not only for its own thread: it swaps `sys.stdout`
for a buffer while it imports Quadrants (`contextlib.redirect_stdout`), and points descriptor 2 at
/dev/null while it starts (`dup2`). The Genesis backend imports and starts Genesis on a thread of its
own while the sidecar starts listening, so a `listening` line printed meanwhile went into Genesis's
buffer, and the supervisor waited for it until it gave up.

{func}`claim`, called before any engine is imported, duplicates descriptors 1 and 2; the sidecar
writes what it says to the copies, which nothing else redirects. Whatever the engine prints still
goes to the original descriptors.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

_out: TextIO | None = None
_err: TextIO | None = None


def _copy(fd: int) -> TextIO | None:
    try:
        return io.TextIOWrapper(io.FileIO(os.dup(fd), "w"), encoding="utf-8", line_buffering=True, write_through=True)
    except OSError:
        return None  # no such descriptor (closed by whoever started us): the sys stream is used


def claim() -> None:
    """Takes copies of stdout and stderr for the sidecar's own lines. Call it before importing an engine."""
    global _out, _err
    if _out is None:
        _out = _copy(1)
    if _err is None:
        _err = _copy(2)


def out() -> TextIO:
    """Where the sidecar's stdout lines go (the `listening` line, `--warm`'s progress)."""
    return _out or sys.stdout


def err() -> TextIO:
    """Where the sidecar's log lines go."""
    return _err or sys.stderr
