"""The suite's WebSocket client: `websockets`' synchronous client, every frame recorded in a `Transcript`, every
wait bounded, sends paced and connections counted against the run's WebSocket budget (`WsBudget`)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from conformance.data.exceptions import NotTested
from conformance.data.wsframes import RECEIVED, SENT, Frame, Transcript

OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
MAX_FRAME = 4 * 1024 * 1024


@dataclass(eq=False)
class WsBudget:
    """How many connections the run may open, how many at once, and how fast it may send (x-suite-limits)."""

    concurrent: int
    per_run: int
    per_second: float
    opened: int = 0
    open_now: int = 0
    peak: int = 0

    @classmethod
    def from_limits(cls, limits: dict[str, Any]) -> WsBudget:
        return cls(int(limits["concurrent-connections"]), int(limits["connections-per-run"]),
                   float(limits["messages-per-second"]))

    def acquire(self) -> None:
        if self.opened >= self.per_run:
            raise NotTested(f"the run's WebSocket budget of {self.per_run} connections is spent")
        if self.open_now >= self.concurrent:
            raise NotTested(f"{self.open_now} WebSocket connection(s) already open (at most {self.concurrent})")
        self.opened += 1
        self.open_now += 1
        self.peak = max(self.peak, self.open_now)

    def release(self) -> None:
        self.open_now = max(0, self.open_now - 1)

    def describe(self) -> dict[str, int]:
        return {"opened": self.opened, "peak": self.peak, "limit_per_run": self.per_run,
                "limit_concurrent": self.concurrent}


def derived_ws_url(base_url: str) -> str:
    """ws(s)://<the REST host>/ws: where the ZTDX testnet serves it (a guess on any other host)."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/ws"


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


class WsSession:
    """One connection. `open()` raises NotTested (naming `rule_id`, if given) when no WebSocket answers at `url`."""

    def __init__(self, url: str, budget: WsBudget, *, rule_id: str | None = None,
                 listeners: list[Callable[[Transcript], None]] | None = None) -> None:
        self.url, self.budget, self.rule_id = url, budget, rule_id
        self.transcript = Transcript(url)
        self.listeners = listeners or []
        self._conn: Any = None
        self._started = 0.0
        self._last_send = 0.0

    # -- the connection ---------------------------------------------------------------------------------------
    def open(self) -> WsSession:
        from websockets.exceptions import InvalidHandshake, InvalidURI
        from websockets.sync.client import connect

        if self._conn is not None:
            return self
        self.budget.acquire()
        try:
            # websockets 17 wants connect() entered as a context manager; entered here, left in close()
            self._conn = connect(self.url, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT,
                                 max_size=MAX_FRAME, ping_interval=None,
                                 proxy=None if _loopback(self.url) else True).__enter__()
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            self.budget.release()
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise NotTested(f"no WebSocket at {self.url} ({reason})", rule_id=self.rule_id) from None
        self._started = time.monotonic()
        return self

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to close
                self._conn.close()
            self._conn = None
            self.budget.release()
            for listener in self.listeners:
                listener(self.transcript)

    def interrupt(self) -> None:
        """End the connection without releasing it: a receive waiting in another thread returns at once (the
        transcript is marked closed); `close()` still ends the session."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()

    def __enter__(self) -> WsSession:
        return self.open()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _now(self) -> float:
        return time.monotonic() - self._started

    # -- frames -----------------------------------------------------------------------------------------------
    def send(self, message: dict[str, Any] | str) -> Frame:
        """Send one text frame, no faster than the budget's messages per second."""
        gap = 1 / self.budget.per_second - (time.monotonic() - self._last_send)
        if gap > 0:
            time.sleep(gap)
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        frame = Frame(SENT, self._now(), text)
        self.transcript.frames.append(frame)
        self._last_send = time.monotonic()
        if not self.transcript.closed:
            try:
                self._conn.send(text)
            except Exception as exc:  # the server closed the connection
                self._ended(exc)
        return frame

    def _ended(self, exc: BaseException) -> None:
        self.transcript.closed = self.transcript.closed or (str(exc).splitlines()[0][:200] or type(exc).__name__)

    def receive(self, timeout: float) -> Frame | None:
        """The next frame within `timeout` seconds, or None (silence, or the connection ended)."""
        if self.transcript.closed:
            return None
        try:
            data = self._conn.recv(timeout=max(timeout, 0.0))
        except TimeoutError:
            return None
        except Exception as exc:  # ConnectionClosed: the server went away
            self._ended(exc)
            return None
        frame = Frame(RECEIVED, self._now(), data)
        self.transcript.frames.append(frame)
        return frame

    def collect(self, seconds: float, until: Callable[[Transcript], bool] | None = None) -> Transcript:
        """Receive for at most `seconds`, or until `until(transcript)` holds."""
        deadline = time.monotonic() + seconds
        while not (until and until(self.transcript)):
            left = deadline - time.monotonic()
            if left <= 0 or self.transcript.closed:
                break
            self.receive(left)
        return self.transcript

    def wait_for(self, wanted: Callable[[Frame], bool], seconds: float) -> Frame | None:
        """The first frame (from now on) that satisfies `wanted`, within `seconds`."""
        start = len(self.transcript.frames)
        found: list[Frame] = []

        def seen(t: Transcript) -> bool:
            found[:] = [f for f in t.frames[start:] if f.direction == RECEIVED and wanted(f)][:1]
            return bool(found)

        self.collect(seconds, seen)
        return found[0] if found else None

    def authenticate(self, listen_key: str, seconds: float) -> tuple[Frame, Frame | None]:
        """Send a listenKey `auth`; the frame sent and the `auth_result` that answered it within `seconds`."""
        auth = self.send({"type": "auth", "listenKey": listen_key})
        return auth, self.wait_for(lambda f: f.type == "auth_result", seconds)

    def protocol_ping(self, seconds: float) -> bool:
        """Send an RFC 6455 Ping frame; True when its Pong arrives within `seconds`."""
        if self.transcript.closed:
            self.transcript.protocol_pong = False
            return False
        try:
            answered = bool(self._conn.ping().wait(seconds))
        except Exception as exc:
            self._ended(exc)
            answered = False
        self.transcript.protocol_pong = answered
        return answered
