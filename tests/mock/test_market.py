"""Market data: deterministic seeded values, kline windows for every interval, ordering and shapes."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, datetime

import httpx
import pytest

from conformance.mock import MockServer

from .conftest import Api, error

INTERVALS = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"]
FIXED_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
            "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000,
            "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000}
START = 1_700_000_000_000  # 2023-11-14T22:13:20Z: not on any boundary


def _is_boundary(interval: str, t: int) -> bool:
    if interval == "1M":
        d = datetime.fromtimestamp(t / 1000, UTC)
        return (d.day, d.hour, d.minute, d.second) == (1, 0, 0, 0)
    if interval == "1w":
        return datetime.fromtimestamp(t / 1000, UTC).weekday() == 0 and t % 86_400_000 == 0
    return t % FIXED_MS[interval] == 0


@pytest.mark.parametrize("interval", INTERVALS)
def test_klines_are_aligned_ascending_contiguous_and_windowed(api: Api, interval: str) -> None:
    rows = api.get("/fapi/v1/klines", symbol="BTCUSDT", interval=interval, startTime=START, limit=5).json()
    assert len(rows) == 5 and rows[0][0] >= START
    assert all(_is_boundary(interval, r[0]) for r in rows)
    assert all(a[6] + 1 == b[0] for a, b in itertools.pairwise(rows))  # close + 1 ms = next open
    assert all(isinstance(r[0], int) and isinstance(r[8], int) and all(isinstance(v, str) for v in r[1:6])
               for r in rows)
    assert all(float(r[3]) <= min(float(r[1]), float(r[4])) <= max(float(r[1]), float(r[4])) <= float(r[2])
               for r in rows)


def test_overlapping_kline_windows_agree(api: Api) -> None:
    first = api.get("/fapi/v1/klines", symbol="ETHUSDT", interval="1h", startTime=START, limit=10).json()
    later = api.get("/fapi/v1/klines", symbol="ETHUSDT", interval="1h", startTime=first[4][0], limit=10).json()
    assert first[4:] == later[:6]
    by_end = api.get("/fapi/v1/klines", symbol="ETHUSDT", interval="1h", endTime=first[9][0], limit=3).json()
    assert by_end == first[7:10]


def test_kline_defaults_and_maximum(api: Api) -> None:
    assert len(api.get("/fapi/v1/klines", symbol="SOLUSDT", interval="1m").json()) == 500
    assert len(api.get("/fapi/v1/klines", symbol="SOLUSDT", interval="1m", limit=1500).json()) == 1500


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    def candles(seed: int) -> list:
        with MockServer(seed=seed) as mock:
            return httpx.get(f"{mock.url}/fapi/v1/klines", params={"symbol": "BTCUSDT", "interval": "1d",
                                                                   "startTime": START, "limit": 3}).json()
    assert candles(7) == candles(7) != candles(8)


@pytest.mark.parametrize("limit", [5, 10, 20, 50, 100, 500, 1000])
def test_depth_levels_are_sorted_by_price(api: Api, limit: int) -> None:
    book = api.get("/fapi/v1/depth", symbol="BTCUSDT", limit=limit).json()
    bids, asks = [float(b[0]) for b in book["bids"]], [float(a[0]) for a in book["asks"]]
    assert len(bids) == len(asks) == limit and bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0] and isinstance(book["E"], int) and isinstance(book["T"], int)


@pytest.mark.parametrize("path", ["/fapi/v1/premiumIndex", "/fapi/v1/ticker/24hr", "/fapi/v1/ticker/price",
                                  "/fapi/v1/ticker/bookTicker"])
def test_an_object_with_symbol_and_an_array_without(api: Api, path: str) -> None:
    one = api.get(path, symbol="ETHUSDT").json()
    every = api.get(path).json()
    assert one["symbol"] == "ETHUSDT" and [r["symbol"] for r in every] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


@pytest.mark.parametrize(("path", "field", "limit"), [("/fapi/v1/trades", "time", 1000),
                                                     ("/fapi/v1/aggTrades", "T", 1000)])
def test_trades_are_ascending_with_default_and_max_limits(api: Api, path: str, field: str, limit: int) -> None:
    rows = api.get(path, symbol="BTCUSDT").json()
    assert len(rows) == 500 and [r[field] for r in rows] == sorted(r[field] for r in rows)
    assert len(api.get(path, symbol="BTCUSDT", limit=limit).json()) == limit
    assert api.get(path, symbol="BTCUSDT", limit=limit + 1).status_code == 400


def test_funding_history_is_ascending_8h_apart_and_windowed(api: Api) -> None:
    rows = api.get("/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=START, limit=5).json()
    times = [r["fundingTime"] for r in rows]
    assert len(rows) == 5 and times[0] >= START and all(b - a == 28_800_000 for a, b in itertools.pairwise(times))
    assert len(api.get("/fapi/v1/fundingRate", symbol="BTCUSDT").json()) == 100
    merged = api.get("/fapi/v1/fundingRate", limit=30).json()
    assert [r["fundingTime"] for r in merged] == sorted(r["fundingTime"] for r in merged)


def test_exchange_info_carries_the_ztdx_filters_and_limits(api: Api) -> None:
    info = api.get("/fapi/v1/exchangeInfo").json()
    assert info["exchangeFilters"] == [] and isinstance(info["serverTime"], int)
    assert [(r["rateLimitType"], r["limit"]) for r in info["rateLimits"]] == [("REQUEST_WEIGHT", 2400),
                                                                             ("ORDERS", 1200)]
    for sym in info["symbols"]:
        price, lot, market_lot, notional = sym["filters"]
        assert [f["filterType"] for f in sym["filters"]] == ["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE",
                                                             "MIN_NOTIONAL"]
        assert price["minPrice"] == price["tickSize"] and price["maxPrice"] == lot["maxQty"] == "1000000000"
        assert {**market_lot, "filterType": "LOT_SIZE"} == lot and notional["notional"] == "10"
        assert sym["contractType"] == "PERPETUAL" and sym["status"] == "TRADING" and sym["maxLeverage"] >= 1


def test_time_and_ping(api: Api) -> None:
    assert api.get("/fapi/v1/ping").json() == {}
    server_time = api.get("/fapi/v1/time").json()["serverTime"]
    assert abs(server_time - calendar.timegm(datetime.now(UTC).timetuple()) * 1000) < 5000


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/fapi/v1/klines", {"interval": "1M", "limit": 500}, 0),
    ("/fapi/v1/klines", {"interval": "2h", "startTime": 0, "endTime": 0}, 0),
    ("/fapi/v1/fundingRate", {"startTime": 0}, "fundingTime"),
    ("/fapi/v1/fundingRate", {"endTime": 17674156287}, "fundingTime"),
    ("/fapi/v1/aggTrades", {"fromId": 0}, "T"),
])
def test_no_market_data_predates_the_listing(api: Api, path: str, params: dict, field: str | int) -> None:
    listed = api.get("/fapi/v1/exchangeInfo").json()["symbols"][0]["onboardDate"]
    month_before = listed - 31 * 86_400_000  # the first monthly candle may open before the listing day
    rows = api.get(path, symbol="BTCUSDT", **params).json()
    assert isinstance(rows, list) and all(r[field] >= month_before for r in rows)


def test_an_empty_optional_symbol_is_refused_not_read_as_all_symbols(api: Api) -> None:
    for path in ("/fapi/v1/ticker/price", "/fapi/v1/premiumIndex", "/fapi/v1/ticker/bookTicker"):
        assert error(api.get(path, symbol=""))[:2] == (400, -1100)
