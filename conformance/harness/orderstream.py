"""The private `orders` channel, listened to for the whole run: the "WebSocket reports" that general-info names for
confirming an order whose outcome is unknown ("first confirm whether the order was executed via WebSocket reports or
orderId queries"). The client asks it first and falls back to the orderId query (conformance/harness/reconcile.py)."""

from __future__ import annotations

import threading
from typing import Any

from conformance.data.exceptions import NotTested, TargetUnavailable
from conformance.data.wsframes import mentions
from conformance.harness import readers
from conformance.harness.redact import register_secret
from conformance.harness.wsclient import WsSession

POLL = 0.5  # seconds between checks for the stop flag while the channel is silent


def listen_key(client: Any) -> str:
    """A listenKey from POST /fapi/v1/listenKey, registered as a secret: a bearer token for the private stream."""
    key = readers.listen_key(client.call("POST", "/fapi/v1/listenKey", signed=True))
    register_secret(key)
    return key


class OrderStream:
    """A background listener on one authenticated connection; `find` waits for an order event naming a client id."""

    def __init__(self, session: WsSession) -> None:
        self.session = session
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="fapi-conformance-orders", daemon=True)

    @classmethod
    def open(cls, session: WsSession, listen_key: str, channel: str, wait: float = 5.0) -> OrderStream:
        """Authenticate and subscribe; raises NotTested (with the reason) when the stream cannot be had."""
        session.open()
        _, answer = session.authenticate(listen_key, wait)
        if answer is None or answer.obj.get("success") is not True:
            session.close()
            raise NotTested(f"the listenKey auth was not accepted ({answer.text[:80] if answer else 'no answer'})")
        session.send({"type": "subscribe", "channel": channel})
        ack = session.wait_for(lambda f: f.type in ("subscribed", "error"), wait)
        if ack is None or ack.type != "subscribed":
            session.close()
            raise NotTested(f"subscribe {channel} was not acknowledged ({ack.text[:80] if ack else 'no answer'})")
        stream = cls(session)
        stream._thread.start()
        return stream

    def _listen(self) -> None:
        while not self._stop.is_set() and not self.session.transcript.closed:
            frame = self.session.receive(POLL)
            if frame is not None and frame.type == "order" and isinstance(frame.payload, dict):
                with self._changed:
                    self.events.append(frame.payload)
                    self._changed.notify_all()

    def find(self, client_order_id: str, timeout: float) -> dict[str, Any] | None:
        """The latest order event naming `client_order_id`, waiting up to `timeout` seconds for one."""
        def found() -> dict[str, Any] | None:
            return next((e for e in reversed(self.events) if mentions(e, {client_order_id})), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self._stop.is_set(), timeout)
            return found()

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self.session.interrupt()  # the listener's receive returns now, not at the end of its POLL
        if self._thread.is_alive():
            self._thread.join(POLL * 4)
        self.session.close()


def start(client: Any, url: str, budget: Any, channel: str) -> tuple[OrderStream | None, str]:
    """The run's order channel on a trading target, or None and why not (no WebSocket, auth refused, ...)."""
    try:
        stream = OrderStream.open(WsSession(url, budget), listen_key(client), channel)
    except (NotTested, TargetUnavailable) as exc:
        return None, f"not listened to: {getattr(exc, 'reason', exc)}"
    return stream, f"listening on {channel} at {url}"
