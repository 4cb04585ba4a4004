"""The temporary Prefect server of one `fund` command, as its own process.

    python -m fund.runtime.temporary_server --fd FD --parent PID

It serves Prefect's API (no UI) on the listening socket it inherits as FD, so the port is
chosen by the parent without a race, and it never outlives that parent: on Linux the
kernel kills it when the parent dies (PR_SET_PDEATHSIG), and everywhere a watchdog thread
ends it within a second when its parent is gone, even after a SIGKILL of the parent (with
nobody left to talk to, there is nothing to shut down gracefully; Prefect's SQLite
database survives a kill). A normal stop is the parent's SIGTERM, which uvicorn handles
gracefully. Prefect's own temporary server (`SubprocessASGIServer`) has neither guarantee.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def follow_parent(parent: int) -> None:
    """Ask the kernel to kill this process when the parent dies; a thread checks anyway."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before we could follow it
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fund.runtime.temporary_server")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    follow_parent(args.parent)
    listening = socket.socket(fileno=args.fd)
    import uvicorn

    config = uvicorn.Config(
        "prefect.server.api.server:create_app", factory=True, log_level="error", lifespan="on", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listening])


if __name__ == "__main__":
    main()
