"""Shared bench helpers: a mock in its own process, timed subprocesses, medians, the machine's description."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Every subprocess is bounded: a hung run must end the bench, not the nightly job's minutes.
RUN_TIMEOUT = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def control(base_url: str, path: str, body: dict[str, Any] | None = None, *, post: bool = False) -> Any:
    """Call the mock's /__mock__/ control API (stdlib only, so the bench measures no extra client)."""
    data = json.dumps(body).encode() if body is not None else (b"{}" if post else None)
    req = urllib.request.Request(f"{base_url}/__mock__/{path}", data=data, method="POST" if data else "GET",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@contextmanager
def mock_process(latency_ms: float = 0.0, extra: Sequence[str] = ()) -> Iterator[str]:
    """The bundled mock as its own uvicorn process, so load and suite never share its interpreter lock."""
    port = free_port()
    cmd = [PYTHON, "-m", "conformance.mock", "--host", "127.0.0.1", "--port", str(port),
           "--latency-ms", str(latency_ms), *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"mock process exited with {proc.returncode}: {err[-500:]}")
        try:
            if control(url, "health").get("status") == "ok":
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mock at {url} did not become healthy within {timeout:.0f}s")


@dataclass
class Timed:
    seconds: float
    returncode: int
    tail: str
    failures: list[str]  # pytest's FAILED/ERROR lines: a run that exits non-zero says why in bench.json


def timed(cmd: Sequence[str], env: dict[str, str] | None = None) -> Timed:
    """Wall time of one subprocess, with the last lines of its output for the report."""
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    lines = (done.stdout + done.stderr).strip().splitlines()
    failures = [line[:300] for line in lines if line.startswith(("FAILED ", "ERROR "))][:20]
    return Timed(seconds, done.returncode, lines[-1] if lines else "", failures)


def failed_lines(runs: Iterable[Timed]) -> list[str]:
    """The distinct FAILED/ERROR lines of several runs, for bench.json."""
    return sorted({line for run in runs for line in run.failures})


def median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def machine() -> dict[str, Any]:
    """The machine the figures were taken on (they mean nothing without it)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        ram_gib = round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": ram_gib, "python": platform.python_version(),
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d")}
