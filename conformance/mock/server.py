"""`MockServer`: the mock under uvicorn in a background thread on a (free) loopback port; `MockProcess`: the same mock
in a child process of its own, serving a socket bound in the parent."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from .app import create_app

START_TIMEOUT = 15.0


def tcp_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) (port 0: a free one), for every loopback server of the project: the mock,
    its process, the self-tests' mutant proxy. IPPROTO_TCP, not 0: asyncio disables Nagle (TCP_NODELAY) only on
    sockets whose proto says TCP, and an answer written in two parts (headers, body) would otherwise wait ~40 ms for
    a delayed ACK (the proxy once bound its own socket with proto 0: a whole-suite run through it took 68 s, not 18 s).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class MockServer:
    """Context manager; `start()` returns only once the port accepts connections; `.url` is the base URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **create_app_kwargs: Any) -> None:
        self.host, self.port = host, port
        self.app = create_app(**create_app_kwargs)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> Any:
        """The in-process MockState (tests may inspect it directly instead of GET /__mock__/state)."""
        return self.app.state.mock

    def start(self) -> MockServer:
        if self._thread is not None:
            return self
        # Binding here (not in uvicorn) makes port=0 resolve before start() returns, with no race on the number.
        sock = tcp_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._socket = sock
        # No keepalive pings of its own (ws_ping_interval): websockets draws their payload from the global `random`,
        # and in a suite's process that is a draw inside whatever Hypothesis strategy runs at that moment
        # (HypothesisDeprecationWarning: "Do not use the `random` module inside strategies"). The ZTDX protocol
        # has its own ping frames; a client's RFC 6455 Ping is still answered.
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                timeout_keep_alive=30, ws_ping_interval=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"ztdx-mock-{self.port}", daemon=True)
        self._thread.start()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                return
            if self._thread is not None and not self._thread.is_alive():
                break
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"the mock did not start on {self.url}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MockProcess:
    """The bundled mock in a child process (`python -m conformance.mock --fd N`): same app, same options, its CPU on
    another core instead of the suite's (one GIL: in process, every answer the mock computed was time the suite's
    checks and generation waited for).

    The socket is bound and listening here before the child starts, so `url` is known at once and a first request
    waits in the backlog until the child serves it; the child gets the socket's descriptor and this process closes
    its copy, so a child that dies closes the port (connection refused, not a hang). `start()` returns once the
    child says it serves; `stop()` ends it (SIGTERM, then SIGKILL); `--exit-with-parent` ends it if this process dies
    without stopping it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, limits_scale: int = 1,
                 ws_cadence_scale: float = 1.0, seed: int = 42) -> None:
        self.host, self.port = host, port
        self.args = ["--seed", str(seed), "--limits-scale", str(limits_scale), "--ws-cadence-scale",
                     repr(ws_cadence_scale), "--exit-with-parent"]
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MockProcess:
        if self._proc is not None:
            return self
        with tcp_socket(self.host, self.port) as sock:
            sock.listen(2048)
            self.port = sock.getsockname()[1]
            # The child's stderr: read only to explain a child that failed; closed in stop().
            self._log = tempfile.TemporaryFile()  # noqa: SIM115
            package_root = str(Path(__file__).resolve().parents[2])
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                                             os.environ.get("PYTHONPATH")]))}
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "conformance.mock", "--fd", str(sock.fileno()), *self.args],
                pass_fds=(sock.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
                env=env)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            line = self._proc.stdout.readline() if selector.select(START_TIMEOUT) else b""
        if line.startswith(b"listening on "):
            return
        reason = self._stderr_tail() or f"no answer within {START_TIMEOUT:.0f} s"
        self.stop()
        raise RuntimeError(f"the mock did not start on {self.url}: {reason}")

    def _stderr_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MockProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
