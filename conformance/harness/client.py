"""The signed httpx client: builds requests as the contract allows, records every exchange."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from conformance.data import contract as contract_mod
from conformance.data.exceptions import OperationNotImplemented, TargetUnavailable
from conformance.data.exchange import Exchange
from conformance.harness import reconcile, retry
from conformance.harness.governor import Governor
from conformance.harness.journal import Journal
from conformance.harness.redact import redact, register_secret
from conformance.harness.request import Params, Prepared, pairs, sign
from conformance.harness.targets import Target

FORM = "application/x-www-form-urlencoded"
ORDER_EVENT_WAIT = 2.0  # seconds an unknown outcome waits for its order event before the orderId query


class OrderEvents(Protocol):
    """What the client asks of the order channel (conformance/orderstream.OrderStream)."""

    def find(self, client_order_id: str, timeout: float) -> dict[str, Any] | None: ...
# Documented 503 texts that mean "the service is unavailable", not "the contract is broken".
UNAVAILABLE_MESSAGES = (
    "Service Unavailable.",
    "Internal error; unable to process your request. Please try again.",
    "Request throttled by system-level protection.",
)


def _checks() -> Any:
    """The checks package, imported on first use: importing it loads the catalogue, which the plugin validates first
    (a malformed rules.yaml is one located line, not an import-time traceback)."""
    import conformance.checks.errors
    import conformance.checks.parity

    return conformance.checks


def raise_if_not_implemented(exchange: Exchange) -> None:
    """A documented operation that answers 404/405 is missing: whatever else the test wanted cannot be judged."""
    op = exchange.operation
    if op is not None and exchange.response.status in (404, 405):
        raise OperationNotImplemented(
            f"operation not implemented: {op.method} {op.path} ({op.id}) answered HTTP {exchange.response.status}",
            rule_id=_checks().parity.implemented_rule(op, exchange.request.url))


class Client:
    """One client per target; `call()` returns an `Exchange` and never hides a response."""

    def __init__(self, target: Target, *, contract: contract_mod.Contract | None = None,
                 governor: Governor | None = None, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep, journal: Journal | None = None) -> None:
        self.target = target
        self.contract = contract or contract_mod.default()
        self.governor = governor or Governor()
        self.http = httpx.Client(base_url=target.base_url, timeout=timeout,
                                 headers={"User-Agent": "fapi-conformance/0.1"},
                                 verify=not target.base_url.lower().startswith("http://"))  # as in MockControl
        self.listeners: list[Callable[[Exchange], None]] = []
        self.retries: list[retry.RetryRecord] = []
        self.unknown_outcomes: list[reconcile.Finding] = []
        # The run's listener on the private order channel (conformance/harness/orderstream.py), when it has one:
        # `order_stream_opener` opens it before the run's first order (a run that sends no order opens none).
        self.order_stream: OrderEvents | None = None
        self.order_stream_opener: Callable[[], OrderEvents | None] | None = None
        self._opening = threading.Lock()
        self.journal = journal if journal is not None else Journal()  # the run's (RunState.journal)
        self.sleep = sleep
        self._paced = threading.local()  # budget already waited for, by (method, path): see pace_now()
        self._held = threading.local()  # exchanges kept back from the listeners in this thread: see holding()
        if target.credentials:
            register_secret(target.credentials.api_key, target.credentials.api_secret)

    @contextmanager
    def holding(self, held: list[Exchange]) -> Iterator[list[Exchange]]:
        """While the block runs, this thread's exchanges go to `held`, not to the listeners (recorder, the test's
        exchanges, the run's observed answers): work done ahead for a later test is told when that test runs
        (`release`), so each exchange is the test's that judges it, in the order a serial run has."""
        outer = getattr(self._held, "exchanges", None)
        self._held.exchanges = held
        try:
            yield held
        finally:
            self._held.exchanges = outer

    def release(self, held: list[Exchange]) -> None:
        """Tell the listeners of exchanges kept back by `holding`, in the order they were sent."""
        for exchange in held:
            self._tell(exchange)

    def _tell(self, exchange: Exchange) -> None:
        held = getattr(self._held, "exchanges", None)
        if held is not None:
            held.append(exchange)
            return
        for listener in self.listeners:
            listener(exchange)

    def pace_now(self, method: str, path: str, params: Params | None = None, count: int = 1) -> None:
        """Make sure the next `count` calls to this endpoint (in this thread) are paid for, waiting now if needed: a
        caller that fixes a timestamp (a hand-signed request) fixes it after the pacing wait, not before it."""
        op = self.contract.find(method, path)
        weight = op.weight(dict(pairs(params))) if op else 1
        credits = getattr(self._paced, "credits", None)
        if credits is None:
            credits = self._paced.credits = {}
        paid = credits.setdefault((method.upper(), path), [])
        while len(paid) < count:
            self.governor.acquire(weight, orders=1 if op and op.counts_orders else 0)
            paid.append(weight)

    def _pay(self, req: Prepared) -> None:
        """Pay this request's weight, less what pace_now() already paid for it (the rest, if it weighs more as
        sent: its parameters moved to the body, say)."""
        op, weight = req.operation, req.weight()
        paid = (getattr(self._paced, "credits", None) or {}).get((req.method, req.path))
        if paid:
            extra = weight - paid.pop(0)
            if extra > 0:
                self.governor.acquire(extra)
            return
        self.governor.acquire(weight, orders=1 if op and op.counts_orders else 0)

    def close(self) -> None:
        self.http.close()

    def local_time_ms(self) -> int:
        """This machine's clock in milliseconds: the `timestamp` of a signed request (not the server's time)."""
        return int(time.time() * 1000)

    def call(self, method: str, path: str, params: Params | None = None, *, form: Params | None = None,
             signed: bool | None = None, headers: Mapping[str, str | None] | None = None,
             content: bytes | None = None,
             content_type: str | None = None, allow_limits: bool = False, allow_faults: bool = False,
             allow_missing: bool = False) -> Exchange:
        """Send `params` in the query and `form` in the body; sign over exactly what is sent.

        A header given as None is not sent (e.g. `{"X-MBX-APIKEY": None}` for a request without the key).

        Unless `allow_faults`, documented failures are retried by their policy (conformance.harness.retry) and an
        unknown outcome is reconciled by clientOrderId, never resubmitted. A documented operation answering 404/405
        is not implemented on the target: unless `allow_missing`, the test that sent it is "not tested"."""
        method = method.upper()
        operation = self.contract.find(method, path)
        if self.order_stream_opener is not None and operation is not None and operation.counts_orders:
            self._open_order_stream()
        query, body = pairs(params), pairs(form)
        signed = operation.signed if signed is None and operation else bool(signed)
        request = Prepared(method, path, operation, query, body, signed, dict(headers or {}), content,
                            content_type)
        attempt = 1
        while True:
            exchange = self._send(request)
            kind = None if allow_faults else retry.failure_kind(exchange)
            if kind == "throttled" and _checks().errors.exempt_request(exchange):
                kind = None  # -1008 on a cancel or reduce-only order breaks the exemption: judged, not retried
            if kind == retry.UNKNOWN_STATUS:
                self._unknown_outcome(exchange, request)
            policy = retry.policy_for(kind)
            if policy is None:
                break
            if attempt >= policy.tries or not self._may_resubmit(request, exchange, policy, attempt):
                self._journal(request, exchange, policy.kind, attempt, 0.0, "gave up")
                self.governor.note_gave_up(f"HTTP {exchange.response.status} {policy.kind} on {method} {path}")
                raise TargetUnavailable(f"unavailable: HTTP {exchange.response.status} {policy.kind} on "
                                        f"{method} {path} after {attempt} tries")
            delay = policy.delays[attempt - 1]
            self._journal(request, exchange, policy.kind, attempt, delay, "retried")
            if policy.reduce_concurrency:
                self.governor.reduce_concurrency()
            self.sleep(delay)
            attempt += 1
        self.governor.note_answered()
        self._raise_if_unavailable(exchange, allow_limits=allow_limits, allow_faults=allow_faults)
        if not allow_missing:
            raise_if_not_implemented(exchange)
        return exchange

    def _send(self, req: Prepared) -> Exchange:
        """Sign (a fresh timestamp per try), pace through the governor, send, and tell every listener."""
        self.governor.claim(req.path)
        op = req.operation
        # Paced first, signed after: a timestamp taken before a long pacing wait would leave the recvWindow and
        # earn a -1021 the target never deserved (a small --conformance-budget paces for tens of seconds).
        self._pay(req)
        admitted = self.governor.clock()  # the server counts it on arrival: after signing and a free slot
        given: dict[str, Any] = dict(req.headers)
        query, hdrs = self._sign(req.query, req.body, given) if req.signed else (req.query, given)
        raw_body = req.content if req.content is not None else (urlencode(req.body).encode() if req.body else b"")
        if raw_body and "content-type" not in {k.lower() for k in hdrs}:
            hdrs["Content-Type"] = req.content_type or FORM
        hdrs = {k: v for k, v in hdrs.items() if v is not None}  # a None header is one left out on purpose
        self.journal.orders_sent += req.creates_orders
        url = req.path + ("?" + urlencode(query) if query else "")
        try:
            with self.governor.slot(throttled=bool(op is not None and op.raw.get("x-throttled"))):
                response = self.http.request(req.method, url, content=raw_body or None, headers=hdrs)
        except httpx.TimeoutException as exc:
            self.governor.note_transport_failure(type(exc).__name__)
            raise TargetUnavailable(f"timeout: {req.method} {req.path} ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            self.governor.note_transport_failure(type(exc).__name__)
            raise TargetUnavailable(f"unreachable: {self.target.base_url} ({type(exc).__name__}: "
                                    f"{redact(str(exc))})") from None
        exchange = Exchange.from_httpx(response, op)
        self.governor.observe(exchange, admitted_at=admitted)
        self._tell(exchange)
        return exchange

    def _may_resubmit(self, req: Prepared, exchange: Exchange, policy: retry.Policy, attempt: int) -> bool:
        """A documented failure may be retried, except an order-creating request whose fate is not 100% known."""
        if policy.kind != "unknown-error" or not req.creates_orders:
            return True
        # "Request occur unknown error." does not say the request failed: look before sending it again.
        ids = reconcile.client_ids(req.method, req.path, req.params())
        if not ids:
            self._journal(req, exchange, policy.kind, attempt, 0.0, "not retried: no clientOrderId to check")
            return False
        findings = [reconcile.order_by_client_id(self.call, s, c, attempts=1, sleep=self.sleep) for s, c in ids]
        self.unknown_outcomes.extend(f for f in findings if f.found)
        return all(f.found is False for f in findings)

    def _unknown_outcome(self, exchange: Exchange, req: Prepared) -> None:
        """Variant A: "Do not retry directly as a failure" — look the order up, report it, never resubmit."""
        ids = reconcile.client_ids(req.method, req.path, req.params())
        findings = [self._confirm(s, c) for s, c in ids]
        self.unknown_outcomes.extend(findings)
        self.journal.unknown_outcomes.extend(findings)
        found = "; ".join(f.line() for f in findings) or "nothing to reconcile (no clientOrderId); not resubmitted"
        self._journal(req, exchange, retry.UNKNOWN_STATUS, 1, 0.0, f"reconciled: {found}")
        raise TargetUnavailable(f"outcome unknown: HTTP 503 on {req.method} {req.path}; {found}")

    def _open_order_stream(self) -> None:
        """Listen to the order channel from now on (once; its listenKey request is this call's first exchange)."""
        with self._opening:
            opener, self.order_stream_opener = self.order_stream_opener, None
            if opener is not None:
                self.order_stream = opener()

    def _confirm(self, symbol: str, client_order_id: str) -> reconcile.Finding:
        """The WebSocket report first (when the run listens to the order channel), then the orderId query."""
        if self.order_stream is not None:
            event = self.order_stream.find(client_order_id, ORDER_EVENT_WAIT * self.target.wait_scale)
            if event is not None:
                return reconcile.from_order_event(symbol, client_order_id, event)
        return reconcile.order_by_client_id(self.call, symbol, client_order_id, sleep=self.sleep,
                                            delay=reconcile.LOOKUP_DELAY * self.target.wait_scale)

    def _journal(self, req: Prepared, exchange: Exchange, kind: str, attempt: int, delay: float,
                 outcome: str) -> None:
        record = retry.RetryRecord(req.method, req.path, kind, exchange.response.status, attempt, delay, outcome)
        self.retries.append(record)
        self.journal.retries.append(record)

    def _sign(self, query: list[tuple[str, str]], body: list[tuple[str, str]],
              hdrs: dict[str, str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
        creds = self.target.credentials
        names = {k for k, _ in query} | {k for k, _ in body}
        if "timestamp" not in names:
            query = [*query, ("timestamp", str(self.local_time_ms()))]
        if creds and "signature" not in names:
            payload = urlencode(query) + urlencode(body)
            query = [*query, ("signature", sign(creds.api_secret, payload))]
        if creds and not any(k.lower() == "x-mbx-apikey" for k in hdrs):
            hdrs["X-MBX-APIKEY"] = creds.api_key
        return query, hdrs

    def _raise_if_unavailable(self, ex: Exchange, *, allow_limits: bool, allow_faults: bool) -> None:
        status = ex.response.status
        if status in (418, 429) and not allow_limits:
            retry = ex.response.headers.get("retry-after")
            raise TargetUnavailable(f"rate-limited: HTTP {status} on {ex.request.method} {ex.request.path}"
                                    f" (Retry-After {retry or '-'})",
                                    retry_after=float(retry) if retry and retry.isdigit() else None)
        if allow_faults:
            return
        msg = (ex.response.error.msg if ex.response.error else None) or ""
        if status == 503 and msg.startswith(UNAVAILABLE_MESSAGES[2]) and _checks().errors.exempt_request(ex):
            return  # -1008 to a cancel or reduce-only order is the target breaking the exemption: judged
        if status == 408 or (status == 503 and msg.startswith(UNAVAILABLE_MESSAGES)):
            raise TargetUnavailable(f"unavailable: HTTP {status} {msg!r} on {ex.request.method} {ex.request.path}")
