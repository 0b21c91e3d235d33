"""The sidecar's connections: reading framed requests, the hello gate, dispatching each request to
its op and answering it, and broadcasting events.

Requests carry an `id` and an `op`; each gets exactly one answer with the same `id`:
`{"id", "ok": true, ...}` or `{"id", "ok": false, "error": {"code", "message", "file"?, "line"?, "field"?}}`.
Ops in `LOCK_FREE` are answered at once; the others take the sidecar's lock, one at a time.

With a token configured, a connection's first request must be `hello` with that token; anything
else (or a wrong token) is answered with `E_UNAUTHORIZED` and the connection closed. Until then a
frame may be at most 64 KiB, and a connection that has not said hello within 5 s is closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SimError
from .framing import MAX_FRAME, FrameError, encode_frame, read_frame
from .log import log

# Answered at once, whatever else is running.
LOCK_FREE = {"hello", "ping", "shutdown", "stats", "perf"}
PRE_AUTH_MAX_FRAME = 64 * 1024
HELLO_TIMEOUT_S = 5.0


class Client:
    """One connection."""

    def __init__(self, writer: asyncio.StreamWriter, authenticated: bool) -> None:
        self.writer = writer
        self.authenticated = authenticated
        self.close_after_reply = False


@dataclass(frozen=True)
class Request:
    message: dict[str, Any]
    client: Client
    #: When the request arrived, `time.monotonic()` s.
    received: float


Op = Callable[[Request], Awaitable[dict[str, Any]]]


class Connections:
    """Every connection to the sidecar, and the op table their requests are dispatched by.

    An answer that says `shutdown` makes it call `on_shutdown` once the answer is sent.
    """

    def __init__(
        self, ops: Mapping[str, Op], lock: asyncio.Lock, token: str | None, on_shutdown: Callable[[], None]
    ) -> None:
        self.ops = ops
        self.lock = lock
        self.token = token
        self.on_shutdown = on_shutdown
        self.clients: set[Client] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def emit(self, message: dict[str, Any]) -> None:
        frame = encode_frame(message)
        for client in list(self.clients):
            writer = client.writer
            # A client that does not read loses events rather than stalling the simulation.
            if (
                not client.authenticated
                or writer.is_closing()
                or writer.transport.get_write_buffer_size() > 32 * 1024 * 1024
            ):
                continue
            writer.write(frame)

    def close(self) -> None:
        for client in list(self.clients):
            client.writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = Client(writer, authenticated=self.token is None)
        self.clients.add(client)
        loop = asyncio.get_running_loop()
        deadline = (
            None
            if client.authenticated
            else loop.call_later(HELLO_TIMEOUT_S, lambda: client.authenticated or writer.close())
        )
        try:
            while not writer.is_closing():
                try:
                    message = await read_frame(reader, MAX_FRAME if client.authenticated else PRE_AUTH_MAX_FRAME)
                except FrameError as error:
                    writer.write(
                        encode_frame({"id": None, "ok": False, "error": {"code": "E_PROTOCOL", "message": str(error)}})
                    )
                    break
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    # The peer went, or the sidecar is shutting down: nothing to report.
                    break
                received = time.monotonic()
                if not client.authenticated:
                    # Nothing but a hello until it is in, one request at a time.
                    await self._reply(message, client, received)
                    if not client.authenticated:
                        break
                    continue
                # Each request runs as its own task, so that `ping` is answered while a long one
                # (Genesis compiling a scene) runs; the backend lock keeps the others in order.
                task = loop.create_task(self._reply(message, client, received))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        finally:
            if deadline is not None:
                deadline.cancel()
            self.clients.discard(client)
            writer.close()

    async def _reply(self, message: Any, client: Client, received: float) -> None:
        reply = await self.handle(message, client, received)
        writer = client.writer
        if writer.is_closing():
            return
        writer.write(encode_frame(reply))
        try:
            await writer.drain()
        except ConnectionError:
            return
        if client.close_after_reply:
            writer.close()
        if reply.get("shutdown"):
            asyncio.get_running_loop().call_soon(self.on_shutdown)

    async def handle(self, message: Any, client: Client, received: float) -> dict[str, Any]:
        if not isinstance(message, dict):
            client.close_after_reply = not client.authenticated
            return {
                "id": None,
                "ok": False,
                "error": {"code": "E_PROTOCOL", "message": "a request must be a map with id and op"},
            }
        request_id = message.get("id")
        op = message.get("op")
        try:
            handler = self.ops.get(op) if isinstance(op, str) else None
            if handler is None:
                raise SimError("E_UNKNOWN_OP", f"unknown op {op!r}", field="op")
            if not client.authenticated and op != "hello":
                client.close_after_reply = True
                raise SimError("E_UNAUTHORIZED", "say hello with the token first", field="token")
            request = Request(message, client, received)
            if op in LOCK_FREE:
                result = await handler(request)
            else:
                async with self.lock:
                    result = await handler(request)
            return {"id": request_id, "ok": True, **result}
        except SimError as error:
            client.close_after_reply = client.close_after_reply or not client.authenticated
            return {"id": request_id, "ok": False, "error": error.to_wire()}
        except (TypeError, ValueError, KeyError, IndexError) as error:
            return {
                "id": request_id,
                "ok": False,
                "error": {"code": "E_VALIDATION", "message": f"bad {op} request: {error}"},
            }
        except Exception as error:  # noqa: BLE001 - nothing a client sends may kill the sidecar
            log("error", f"{op} failed: {error!r}")
            return {"id": request_id, "ok": False, "error": {"code": "E_INTERNAL", "message": f"{op} failed: {error}"}}
