"""Commands from `act` to their fate: checked on arrival, queued for the step that applies them,
applied there (or refused, expired, superseded), and each fate counted and reported to the
command's sender as an `actuation` event. `commands.py` states the rule and the fates; while the
supervisor's heartbeat is lost (`deadman.py`) nothing but a freeze is applied.
"""

from __future__ import annotations

from typing import Any

from .backend import Backend
from .clock import NodeClock
from .commands import FATES, Command, CommandQueue, Fate, check_header, deadline_of
from .connection import Client
from .deadman import Deadman
from .errors import SimError
from .framing import encode_frame
from .log import log


class Actuation:
    def __init__(
        self,
        backend: Backend,
        clock: NodeClock,
        deadman: Deadman,
        clients: set[Client],
        default_ttl_ms: float,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.deadman = deadman
        #: The connections (the sidecar's set, not a copy): a report goes only to a sender still connected.
        self.clients = clients
        self.default_ttl_ms = default_ttl_ms
        self.queue = CommandQueue()
        self.fates: dict[str, int] = {fate: 0 for fate in FATES}
        self.oldest_applied_ms = 0.0

    def act(self, message: dict[str, Any], client: Client, received_mono: float, stopping: bool) -> dict[str, Any]:
        """An `act` request: checks the action and queues it (or reports it refused or expired at once)."""
        # A malformed header cannot be reported on (there is nothing to name the command by): error only.
        header = check_header(message.get("command"))
        action = message.get("action")
        kind = action.get("kind") if isinstance(action, dict) else None
        try:
            if not isinstance(action, dict):
                raise SimError("E_VALIDATION", "action must be a map with a kind", field="action")
            if stopping:
                raise SimError("E_SIM_STOPPING", "the sidecar is stopping the robot and exiting: no new commands")
            prepared = self.backend.prepare(action)
        except Exception:
            self.report(
                header, kind if isinstance(kind, str) else None, "refused", client, self.clock.at(received_mono)
            )
            raise
        received = self.clock.at(received_mono)
        command = Command(
            prepared,
            header,
            deadline_of(prepared.kind, header, received, self.default_ttl_ms),
            received,
            client,
        )
        if command.expired(self.clock.now()):
            self.report_command(command, "expired")
            return {"fate": "expired"}
        for replaced, fate in self.queue.submit(command):
            self.report_command(replaced, fate)
        return {}

    def report(
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

    def report_command(self, command: Command, fate: Fate, applied_sim_time: float | None = None) -> None:
        origin = command.origin if isinstance(command.origin, Client) else None
        self.report(command.header, command.action.kind, fate, origin, command.received, applied_sim_time)

    def drop_waiting(self, fate: Fate) -> None:
        for command in self.queue.clear():
            self.report_command(command, fate)

    def apply_due(self, now_mono: float) -> list[Command]:
        """Applies the waiting commands still within their deadline (before a step); returns those
        applied, whose fate the step decides (`applied`, or `refused` if it fails)."""
        now = self.clock.at(now_mono)
        due, late = self.queue.take(now)
        for command in late:
            self.report_command(command, "expired")
        silent = self.deadman.heartbeat_lost(now_mono)
        applied: list[Command] = []
        for command in due:
            if silent and command.action.kind != "freeze":
                # The supervisor (its safety gate, lease and e-stop) has gone quiet: nothing moves until it is back.
                self.report_command(command, "refused")
                continue
            try:
                command.action.apply()
            except Exception as error:  # noqa: BLE001 - a command the engine rejects must not stop the simulation
                log("error", f"applying a {command.action.kind} command failed: {error!r}")
                self.report_command(command, "refused")
                continue
            applied.append(command)
            self.deadman.command(now_mono)
            if command.header is not None:
                self.oldest_applied_ms = max(self.oldest_applied_ms, now - float(command.header["stamp"]))
        return applied
