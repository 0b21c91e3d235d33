"""Node's clock, as seen from the sidecar.

Command headers are stamped on the supervisor's clock (`performance.timeOrigin + performance.now()`,
ms), and deadlines are `stamp + ttl` on that clock. The sidecar keeps its own time with
`time.monotonic()` and maps it to Node's from the supervisor's pings: each ping carries the moment
Node sent it, so `node_time - received` is the offset minus the one-way delay. The delay is never
negative, so the largest of the recent samples is the least delayed and the closest to the truth
(over a Unix socket, within about a tenth of a millisecond). Until the first ping, the wall clock
stands in (Node's clock is the wall clock at its start plus monotonic time, so on one host the two
agree to within the drift since then).
"""

from __future__ import annotations

import math
import time
from collections import deque


class NodeClock:
    """Maps `time.monotonic()` to Node's clock (ms), from the pings' send times."""

    def __init__(self, window: int = 64) -> None:
        self._samples: deque[float] = deque(maxlen=window)
        self._offset = time.time() * 1000.0 - time.monotonic() * 1000.0
        self.synced = False

    def sample(self, node_ms: object, received: float) -> bool:
        """Takes a ping sent at `node_ms` (Node's clock) and received at `received` (monotonic, s)."""
        if isinstance(node_ms, bool) or not isinstance(node_ms, (int, float)) or not math.isfinite(node_ms):
            return False
        self._samples.append(float(node_ms) - received * 1000.0)
        self._offset = max(self._samples)
        self.synced = True
        return True

    @property
    def offset_ms(self) -> float:
        """Node's clock minus `time.monotonic()`, ms."""
        return self._offset

    def at(self, monotonic: float) -> float:
        """The moment `monotonic` (s) on Node's clock (ms)."""
        return monotonic * 1000.0 + self._offset

    def now(self) -> float:
        """Now on Node's clock (ms)."""
        return self.at(time.monotonic())
