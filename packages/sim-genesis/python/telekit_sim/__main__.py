"""`python -m telekit_sim --backend mujoco --listen unix:/private/dir/sim.sock --supervised`

Listens on a Unix socket (`unix:/path`, created with mode 0600) or on TCP (`host:port`, port 0 picks
one; a token is then required), prints `listening <address>` on stdout once ready, and serves the
sidecar protocol until `shutdown`, SIGTERM or SIGINT, or, when `--supervised`, until its supervisor
dies. Log lines go to stderr as `<level> <message>`.

The token: with `--supervised`, the first line on stdin; otherwise `$TELEKIT_SIM_TOKEN`. Never on the
command line, which every user of the host can read.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys

from . import console
from .backend import Backend
from .deadman import DeadmanConfig
from .lifeline import ParentWatch, Trace
from .server import Sidecar, SidecarConfig, log


def make_backend(name: str, genesis_cache: str | None = None) -> Backend:
    """`mujoco`, `genesis`, or a backend of your own as `package.module:Class` (a class that takes no
    arguments and follows `backend.Backend`)."""
    if name == "mujoco":
        from .mujoco_backend import MujocoBackend

        return MujocoBackend()
    if name == "genesis":
        from .genesis_backend import GenesisBackend

        return GenesisBackend(cache_dir=genesis_cache)
    module, _, cls = name.partition(":")
    if module and cls:
        try:
            backend: Backend = getattr(importlib.import_module(module), cls)()
        except (ImportError, AttributeError) as error:
            raise SystemExit(f"--backend {name}: {error}") from error
        return backend
    raise SystemExit(f"unknown backend {name!r}: expected mujoco, genesis or package.module:Class")


async def listen(sidecar: Sidecar, where: str) -> tuple[asyncio.AbstractServer, str, str | None]:
    """Starts the server; returns it, the address to print, and the socket file it created (if any)."""
    if where.startswith("unix:"):
        path = where[5:]
        # Created 0600 (no window in which another user could connect), and checked after.
        previous = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(sidecar.serve, path=path)
        finally:
            os.umask(previous)
        os.chmod(path, 0o600)
        return server, f"unix:{path}", path
    host, _, port = where.rpartition(":")
    if not port.isdigit():
        raise SystemExit(f"--listen: expected host:port or unix:/path, got {where!r}")
    server = await asyncio.start_server(sidecar.serve, host or "127.0.0.1", int(port))
    sock = server.sockets[0].getsockname()
    return server, f"{sock[0]}:{sock[1]}", None


async def serve(args: argparse.Namespace, token: str | None, parent: ParentWatch | None) -> None:
    if token is None and not args.listen.startswith("unix:"):
        raise SystemExit(
            "listening on TCP needs a token: set TELEKIT_SIM_TOKEN (or run --supervised and write it on stdin), or listen on unix:/path"
        )
    config = SidecarConfig(
        token=token,
        deadman=DeadmanConfig(command_s=args.command_timeout_ms / 1000, heartbeat_s=args.heartbeat_timeout_ms / 1000),
        default_ttl_ms=args.default_ttl_ms,
        stop_grace_s=args.stop_grace_ms / 1000,
    )
    sidecar = Sidecar(
        make_backend(args.backend, args.genesis_cache), config, trace=Trace.from_environment(), parent=parent
    )
    server, address, socket_file = await listen(sidecar, args.listen)
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not stopped.done():
            stopped.set_result(None)

    # SIGTERM (the parent-death signal, or anyone's) and SIGINT: stop the robot, let it come to rest
    # (at most the grace time), exit. Repeats change nothing: the parent-death signal may come twice.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sidecar.wind_down, sig.name)
    sidecar.on_exit = finish
    sidecar.start()
    if parent is not None:

        def pipe_gone(why: str) -> None:
            try:
                loop.call_soon_threadsafe(sidecar.wind_down, why)
            except RuntimeError:
                pass  # the loop has already finished: the sidecar is exiting anyway

        parent.watch_pipe(sys.stdin.fileno(), pipe_gone)
    deadman = config.deadman
    log(
        "info",
        f"{sidecar.backend.engine} backend ready; deadman {round(deadman.command_s * 1000)} ms without commands, {round(deadman.heartbeat_s * 1000)} ms without heartbeat",
    )
    print(f"listening {address}", file=console.out(), flush=True)
    try:
        async with server:
            await stopped
    finally:
        await sidecar.close()
        if socket_file is not None:
            try:
                os.unlink(socket_file)
            except OSError:
                pass
        if sidecar.loading:
            # A scene still building (Genesis compiling its kernels: minutes on a CPU) holds threads
            # that the interpreter's exit would wait for. The robot has stopped: exit now.
            log("info", "exiting while a scene was still loading")
            sys.stdout.flush()
            os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="telekit-sim", description="Telekit's simulator sidecar")
    parser.add_argument(
        "--backend", default="mujoco", help="mujoco (default), genesis, or package.module:Class (a backend of your own)"
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:0", help="unix:/path (mode 0600), or host:port (port 0 picks one; needs a token)"
    )
    parser.add_argument(
        "--supervised",
        action="store_true",
        help="stdin is the supervisor's pipe: its first line is the token; its end, or a new parent process, stops the robot and exits",
    )
    parser.add_argument(
        "--command-timeout-ms",
        type=float,
        default=500.0,
        help="deadman: stop when no command for this long while running (default 500)",
    )
    parser.add_argument(
        "--heartbeat-timeout-ms",
        type=float,
        default=1000.0,
        help="deadman: stop when the supervisor's pings stop for this long (default 1000)",
    )
    parser.add_argument(
        "--default-ttl-ms",
        type=float,
        default=250.0,
        help="deadline of a command whose header has no ttl (default 250)",
    )
    parser.add_argument(
        "--stop-grace-ms",
        type=float,
        default=1000.0,
        help="after the supervisor died: how long the robot may take to come to rest before exiting (default 1000)",
    )
    parser.add_argument(
        "--genesis-cache",
        default=os.environ.get("TELEKIT_GENESIS_CACHE"),
        help="where Genesis keeps its compiled kernels and processed meshes (default $TELEKIT_GENESIS_CACHE, else Genesis's own, ~/.cache)",
    )
    parser.add_argument(
        "--warm",
        metavar="SCENE",
        help="genesis: build a bundled scene once to fill the kernel cache, then exit (no server)",
    )
    args = parser.parse_args()
    # Before any engine is imported: Genesis redirects the process's output while it starts.
    console.claim()
    if args.warm:
        from .genesis_backend import warm

        def say(phase: str, message: str) -> None:
            print(f"  {phase}: {message}", file=console.out(), flush=True)

        seconds = warm(args.warm, args.genesis_cache, say)
        print(
            f"  ready: {args.warm} built in {seconds:.0f} s; kernels cached in {args.genesis_cache or 'Genesis default cache'}",
            file=console.out(),
            flush=True,
        )
        sys.exit(0)
    for name in ("command_timeout_ms", "heartbeat_timeout_ms", "default_ttl_ms", "stop_grace_ms"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive number of ms")
    # Noted before anything slow (importing the engine), so that a parent that dies meanwhile is noticed.
    parent = ParentWatch() if args.supervised else None
    token = parent.read_token(sys.stdin.fileno()) if parent is not None else os.environ.get("TELEKIT_SIM_TOKEN") or None
    try:
        asyncio.run(serve(args, token, parent))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
