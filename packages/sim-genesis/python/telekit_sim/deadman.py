"""The sidecar's own deadman, independent of Node (like ros2_control's `cmd_vel_timeout`).

While the simulation runs in real time and something drives the robot (a velocity or effort target
that is not zero), two silences stop it:

- **commands**: no command applied for `command_s` (default 0.5 s: twice the gateway's own 250 ms
  deadman, so that in normal operation the gateway's zero twist arrives first);
- **heartbeat**: the supervisor has pinged before and has now been silent for `heartbeat_s`
  (default 1 s), e.g. its process is stopped or its event loop starved. Until it pings again,
  commands are refused.

Stopping zeroes every velocity and effort target (the wheels included) and leaves position targets
where they are, so that arms hold their pose. Each trip is reported once. Stepped by hand (not
running), nothing moves between steps and the deadman stays out of the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DeadmanConfig:
    command_s: float = 0.5
    heartbeat_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.command_s > 0 or not self.heartbeat_s > 0:
            raise ValueError("deadman timeouts must be positive")


@dataclass(frozen=True)
class Trip:
    reason: Literal["command", "heartbeat"]
    #: How long since the last command was applied (or since running started), s.
    since_command_s: float
    #: How long since the last heartbeat, s (None before the first one).
    since_heartbeat_s: float | None

    def describe(self, config: DeadmanConfig) -> str:
        command_ms = round(self.since_command_s * 1000)
        if self.reason == "command":
            return f"deadman: no command for {command_ms} ms (limit {round(config.command_s * 1000)} ms): velocity targets zeroed, positions held"
        heartbeat_ms = round((self.since_heartbeat_s or 0.0) * 1000)
        return (
            f"deadman: no heartbeat from the supervisor for {heartbeat_ms} ms (limit {round(config.heartbeat_s * 1000)} ms; "
            f"last command {command_ms} ms ago): velocity targets zeroed, positions held, commands refused until it is back"
        )


class Deadman:
    """Decides when the robot must be stopped; times are `time.monotonic()` seconds."""

    def __init__(self, config: DeadmanConfig | None = None) -> None:
        self.config = config or DeadmanConfig()
        self.trips = 0
        self._running = False
        self._armed_at = 0.0
        self._last_command: float | None = None
        self._last_heartbeat: float | None = None
        self._tripped = False

    def running(self, on: bool, now: float) -> None:
        """The simulation starts (or stops) stepping in real time."""
        if on and not self._running:
            self._armed_at = now
            self._tripped = False
        self._running = on

    def command(self, now: float) -> None:
        """A command was applied."""
        self._last_command = now
        self._tripped = False

    def heartbeat(self, now: float) -> None:
        self._last_heartbeat = now

    def rearm(self, now: float) -> None:
        """Targets changed without a command (a restored snapshot, a new scene): start counting again."""
        self._armed_at = now
        self._tripped = False

    def heartbeat_lost(self, now: float) -> bool:
        """The supervisor has pinged before and is now silent for longer than allowed (only while running)."""
        return (
            self._running and self._last_heartbeat is not None and now - self._last_heartbeat > self.config.heartbeat_s
        )

    def check(self, now: float, moving: bool) -> Trip | None:
        """A trip, when the robot is driven and a silence has lasted too long; at most one per silence."""
        if not self._running or not moving or self._tripped:
            return None
        since_command = now - max(
            self._last_command if self._last_command is not None else self._armed_at, self._armed_at
        )
        since_heartbeat = None if self._last_heartbeat is None else now - self._last_heartbeat
        if self.heartbeat_lost(now):
            trip = Trip("heartbeat", since_command, since_heartbeat)
        elif since_command > self.config.command_s:
            trip = Trip("command", since_command, since_heartbeat)
        else:
            return None
        self._tripped = True
        self.trips += 1
        return trip
