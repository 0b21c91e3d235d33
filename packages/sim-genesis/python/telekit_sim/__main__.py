"""`python -m telekit_sim --backend mujoco --listen 127.0.0.1:0`

Listens on TCP (`host:port`, port 0 picks one) or a Unix socket (`unix:/path`), prints
`listening <address>` on stdout once ready, and serves the sidecar protocol until `shutdown`,
SIGTERM or SIGINT. Log lines go to stderr as `<level> <message>`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys


def make_backend(name: str):
    if name == "mujoco":
        from .mujoco_backend import MujocoBackend

        return MujocoBackend()
    if name == "genesis":
        from .genesis_backend import GenesisBackend

        return GenesisBackend()
    raise SystemExit(f"unknown backend {name!r}: expected mujoco or genesis")


async def serve(args) -> None:
    from .server import Sidecar, log

    sidecar = Sidecar(make_backend(args.backend))
    if args.listen.startswith("unix:"):
        path = args.listen[5:]
        server = await asyncio.start_unix_server(sidecar.serve, path=path)
        address = f"unix:{path}"
    else:
        host, _, port = args.listen.rpartition(":")
        server = await asyncio.start_server(sidecar.serve, host or "127.0.0.1", int(port))
        sock = server.sockets[0].getsockname()
        address = f"{sock[0]}:{sock[1]}"
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stopped.done() or stopped.set_result(None))
    sidecar.stop = lambda: stopped.done() or stopped.set_result(None)  # type: ignore[method-assign]
    log("info", f"{sidecar.backend.engine} backend ready")
    print(f"listening {address}", flush=True)
    async with server:
        await stopped
    sidecar.running = False
    sidecar.backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="telekit-sim", description="Telekit's simulator sidecar")
    parser.add_argument("--backend", default="mujoco", choices=["mujoco", "genesis"])
    parser.add_argument("--listen", default="127.0.0.1:0", help="host:port (port 0 picks one) or unix:/path")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
