"""Time windows: kline interval boundaries (calendar months included) and startTime/endTime/limit selection."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from .errors import ApiError
from .params import Params

T = TypeVar("T")
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
FIXED = {"1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "30m": 30 * MINUTE, "1h": HOUR,
         "2h": 2 * HOUR, "4h": 4 * HOUR, "6h": 6 * HOUR, "8h": 8 * HOUR, "12h": 12 * HOUR, "1d": DAY, "3d": 3 * DAY,
         "1w": 7 * DAY}
INTERVALS = (*FIXED, "1M")
WEEK_OFFSET = 4 * DAY  # 1970-01-01 is a Thursday; Binance weeks open on Monday 00:00 UTC


def _month_start(t_ms: int) -> int:
    d = datetime.fromtimestamp(t_ms / 1000, UTC)
    return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000


def _add_month(start_ms: int, months: int = 1) -> int:
    d = datetime.fromtimestamp(start_ms / 1000, UTC)
    year, month = divmod(d.month - 1 + months, 12)
    return calendar.timegm((d.year + year, month + 1, 1, 0, 0, 0)) * 1000


def floor_open(interval: str, t_ms: int) -> int:
    """The open time of the candle that contains t_ms."""
    if interval == "1M":
        return _month_start(t_ms)
    step = FIXED[interval]
    offset = WEEK_OFFSET if interval == "1w" else 0
    return (t_ms - offset) // step * step + offset


def next_open(interval: str, open_ms: int) -> int:
    return _add_month(open_ms) if interval == "1M" else open_ms + FIXED[interval]


def prev_open(interval: str, open_ms: int) -> int:
    return _add_month(open_ms, -1) if interval == "1M" else open_ms - FIXED[interval]


def kline_opens(interval: str, start: int | None, end: int | None, limit: int, now_ms: int,
                listed_ms: int = 0) -> list[int]:
    """Open times of the candles a Binance klines window returns, ascending: none opening after now, and none
    before the candle in which the symbol was listed."""
    end = min(end, now_ms) if end is not None else now_ms
    first_open = floor_open(interval, listed_ms)
    if start is not None or end < first_open:
        start = max(start or 0, first_open)
        first = floor_open(interval, start)
        t = first if first >= start else next_open(interval, first)
        opens: list[int] = []
        while t <= end and len(opens) < limit:
            opens.append(t)
            t = next_open(interval, t)
        return opens
    t = floor_open(interval, end)
    opens = []
    while len(opens) < limit and t >= first_open:
        opens.append(t)
        t = prev_open(interval, t)
    return opens[::-1]


def time_range(params: Params) -> tuple[int | None, int | None]:
    start = params.integer("startTime", lo=0)
    end = params.integer("endTime", lo=0)
    if start is not None and end is not None and start > end:
        raise ApiError("start_after_end")
    return start, end


def select(rows: Sequence[T], time_of: Callable[[T], int], start: int | None, end: int | None,
           limit: int) -> list[T]:
    """Rows (ascending) inside [start, end]: the first `limit` from startTime, otherwise the most recent `limit`."""
    kept = [r for r in rows if (start is None or time_of(r) >= start) and (end is None or time_of(r) <= end)]
    return kept[:limit] if start is not None else kept[-limit:]
