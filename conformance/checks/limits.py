"""Checks of the rate-limit surface: used-weight and order-count headers, Retry-After, weight accounting.

The headers are Binance conventions (SHOULD). Weight accounting is a comparison of two consecutive answers.
The over-limit rules (http.429-rate-limit, http.418-ban) are judged in checks.http, with every other check of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks import RuleViolation, check, judged, scenario
from conformance.checks.parameters import comparison
from conformance.data.exceptions import HarnessError
from conformance.data.exchange import Exchange

USED_WEIGHT = "x-mbx-used-weight-1m"
ORDER_COUNTS = ("x-mbx-order-count-10s", "x-mbx-order-count-1m")
RETRY_AFTER = "retry-after"


def _count(ex: Exchange, header: str) -> int | None:
    value = ex.response.headers.get(header, "").strip()
    return int(value) if value.isdigit() else None


def _header_text(ex: Exchange, header: str) -> str:
    value = ex.response.headers.get(header)
    return "absent" if value is None else repr(value)


def _fapi(ex: Exchange) -> bool:
    return ex.request.path.startswith("/fapi/")


@check("limits.used-weight-header", applies=_fapi)
def used_weight_header(ex: Exchange) -> None:
    if _count(ex, USED_WEIGHT) is None:
        raise RuleViolation("limits.used-weight-header", ["X-MBX-USED-WEIGHT-1M: <non-negative integer>"],
                            f"X-MBX-USED-WEIGHT-1M {_header_text(ex, USED_WEIGHT)} on HTTP {ex.response.status}")


def _accepted_order(ex: Exchange) -> bool:
    return ex.operation is not None and ex.operation.counts_orders and 200 <= ex.response.status < 300


@check("limits.order-count-header", applies=_accepted_order)
def order_count_headers(ex: Exchange) -> None:
    counts = [_count(ex, h) for h in ORDER_COUNTS]
    shown = ", ".join(f"{h.upper()} {_header_text(ex, h)}" for h in ORDER_COUNTS)
    if None in counts:
        raise RuleViolation("limits.order-count-header",
                            ["X-MBX-ORDER-COUNT-10S and X-MBX-ORDER-COUNT-1M as non-negative integers"], shown)
    short, minute = counts
    if short == 0 or minute < short:  # type: ignore[operator]
        raise RuleViolation("limits.order-count-header",
                            ["counts that include this order: 10S ≥ 1 and 1M ≥ 10S"], shown)


@check("limits.retry-after", applies=lambda ex: ex.response.status in (418, 429))
def retry_after_seconds(ex: Exchange) -> None:
    if _count(ex, RETRY_AFTER) is None:
        raise RuleViolation("limits.retry-after", ["Retry-After: <seconds as a non-negative integer>"],
                            f"Retry-After {_header_text(ex, RETRY_AFTER)} on HTTP {ex.response.status}")


@scenario("limits.weight-accounting")
def weight_growth(before: Exchange, after: Exchange) -> tuple[int, int]:
    """(growth of the used-weight header from `before` to `after`, documented weight of `after`)."""
    if after.operation is None:
        raise HarnessError(f"{after.request.method} {after.request.path} is not an operation of the spec")
    first, second = _count(before, USED_WEIGHT), _count(after, USED_WEIGHT)
    if first is None or second is None:
        raise RuleViolation("limits.weight-accounting", ["X-MBX-USED-WEIGHT-1M on both answers, to compare"],
                            f"before {_header_text(before, USED_WEIGHT)}, after {_header_text(after, USED_WEIGHT)}")
    return second - first, after.operation.weight(after.request.params())


@comparison("limits.weight-accounting")
def weight_grows_by_documented_weight(rule_id: str, before: Exchange, after: Exchange) -> None:
    """Exact: valid only where nothing else spends the same counter between the two answers (an isolated target)."""
    growth, weight = weight_growth(before, after)
    if growth != weight:
        raise RuleViolation(rule_id, [f"used weight +{weight} ({after.operation_id}'s documented weight)"],
                            f"used weight {_count(before, USED_WEIGHT)} → {_count(after, USED_WEIGHT)} "
                            f"({growth:+d})")


@scenario("limits.weight-accounting")
def grows_in_some_pair(pairs: Sequence[tuple[Exchange, Exchange]]) -> None:
    """Where other traffic shares the counter, one of a few back-to-back pairs must show the exact growth."""
    seen = []
    for before, after in pairs:
        judged("limits.weight-accounting", before, after)
        growth, weight = weight_growth(before, after)
        if growth == weight:
            return
        seen.append(f"{growth:+d}")
    last = pairs[-1][1] if pairs else None
    what = f"{last.request.method} {last.request.path}" if last is not None else "no request"
    raise RuleViolation("limits.weight-accounting", [f"the documented weight in at least one of {len(pairs)} "
                                                     f"back-to-back pairs of {what}"],
                        f"growths {', '.join(seen)}", exchange=last)
