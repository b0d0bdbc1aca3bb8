"""`python -m conformance.mock --host 127.0.0.1 --port 8765`: run the mock standalone in the foreground."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

import uvicorn

from .app import create_app
from .limits import scaled_limits
from .server import tcp_socket

PARENT_POLL = 0.5  # seconds between checks that the process that started the mock is still there


def _number(kind: type[int] | type[float], low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: a number in [low, high], or one clear error (argparse exits 2 with it)."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{text} is out of range — use a value {bound}")
        return value
    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of argparse's usage block
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m conformance.mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_number(int, 0, 65535), default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--latency-ms", type=_number(float, 0), default=0.0)
    parser.add_argument("--jitter-ms", type=_number(float, 0), default=0.0)
    parser.add_argument("--limits-scale", type=_number(int, 1), default=1,
                        help="multiply the documented rate limits (2400 weight, 1200 orders per minute) by this")
    parser.add_argument("--ws-cadence-scale", type=_number(float, 0.01), default=1.0,
                        help="multiply the documented /ws cadences (ticker 2 s, orderbook 500 ms) by this")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started the mock goes away (the nox session uses it)")
    parser.add_argument("--fd", type=_number(int, 0), default=None,
                        help="serve a listening socket inherited as this file descriptor (MockProcess) instead of"
                             " binding --host/--port")
    return parser


def _watch_parent(server: uvicorn.Server) -> None:
    """Stop the server once its parent is gone (re-parented), so a killed session leaves no mock serving."""
    parent = os.getppid()

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            time.sleep(PARENT_POLL)

    threading.Thread(target=watch, name="mock-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    app = create_app(seed=args.seed, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                     limits=scaled_limits(int(args.limits_scale)), ws_cadence_scale=args.ws_cadence_scale)
    if args.fd is not None:  # bound and listening in the parent (MockProcess): its port is known there already
        sock = socket.socket(fileno=int(args.fd))
    else:
        # The socket is bound and listening before the line is printed: whoever reads the line can connect at once.
        try:
            sock = tcp_socket(args.host, int(args.port))
        except OSError as exc:
            sys.exit(f"python -m conformance.mock: cannot listen on {args.host}:{args.port}: {exc.strerror}"
                     " — stop whatever uses the port, or pick another with --port")
        sock.listen(2048)
    host, port = (sock.getsockname()[0] if args.fd is not None else args.host), sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=args.log_level, lifespan="off", access_log=False, timeout_keep_alive=30,
                            ws_ping_interval=None if args.fd is not None else 20.0)
    server = uvicorn.Server(config)
    if args.exit_with_parent:
        _watch_parent(server)
    print(f"listening on http://{host}:{port} — Ctrl-C to stop", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    main()
