"""Mainnet guard: trading is refused on the production host or any host not known to be a testnet or mock,
unless the loudly named flag is given; deliberate 429/418 traffic never reaches production."""

from __future__ import annotations

import pytest

from conformance.data.exceptions import ConfigError
from conformance.harness import targets
from conformance.harness.targets import FAULTS, PROVOKE_LIMITS, SIGNED, TRADING


class Probe:
    """Stands in for the /__mock__/health probe; records every host it was asked about."""

    def __init__(self, answers: bool) -> None:
        self.answers, self.asked = answers, []

    def __call__(self, base_url: str) -> bool:
        self.asked.append(base_url)
        return self.answers


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTDX_API_KEY", "guard-key-0000000")
    monkeypatch.setenv("ZTDX_API_SECRET", "guard-secret-000000")


@pytest.mark.parametrize("url", ["https://api.ztdx.io", "https://API.ZTDX.IO/", "https://api.ztdx.io./"])
def test_the_production_host_gets_no_trading_and_is_never_probed(url: str) -> None:
    probe = Probe(answers=True)  # even a production host that claimed to be a mock stays production
    target = targets.resolve(url, probe=probe)
    assert target.kind == "production" and probe.asked == []
    assert TRADING not in target.capabilities and SIGNED in target.capabilities


def test_an_unknown_host_gets_no_trading() -> None:
    target = targets.resolve("http://127.0.0.1:9", probe=Probe(answers=False))
    assert target.kind == "unknown" and TRADING not in target.capabilities
    assert "trading tests refused" in (targets.guard_line(target) or "")


def test_the_loud_flag_enables_production_trading_with_a_warning() -> None:
    target = targets.resolve("https://api.ztdx.io", allow_mainnet_trading=True, probe=Probe(answers=False))
    assert TRADING in target.capabilities
    assert (targets.guard_line(target) or "").startswith("WARNING: trading tests ENABLED on production host")


def test_the_testnet_and_a_probed_mock_may_trade() -> None:
    assert TRADING in targets.resolve("testnet").capabilities
    mock = targets.resolve("http://127.0.0.1:9", probe=Probe(answers=True))
    assert mock.kind == "mock" and {TRADING, FAULTS, PROVOKE_LIMITS} <= mock.capabilities
    assert targets.guard_line(mock) is None


@pytest.mark.parametrize("url", ["https://api.ztdx.io", "http://127.0.0.1:9"])
def test_provoking_limits_is_refused_off_the_mock_and_testnet(url: str) -> None:
    with pytest.raises(ConfigError, match="provoke-limits is refused"):
        targets.resolve(url, provoke_limits=True, probe=Probe(answers=False))


def test_provoking_limits_on_the_testnet_needs_the_flag() -> None:
    assert PROVOKE_LIMITS not in targets.resolve("testnet").capabilities
    assert PROVOKE_LIMITS in targets.resolve("testnet", provoke_limits=True).capabilities


def test_the_testnet_profile_makes_the_mock_act_like_the_testnet() -> None:
    target = targets.resolve("mock", mock_url="http://127.0.0.1:9", profile="testnet")
    assert {FAULTS, PROVOKE_LIMITS}.isdisjoint(target.capabilities) and TRADING in target.capabilities


def test_without_credentials_nothing_signed_or_trading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZTDX_API_KEY")
    monkeypatch.delenv("ZTDX_API_SECRET")
    target = targets.resolve("testnet")
    assert {SIGNED, TRADING}.isdisjoint(target.capabilities)


@pytest.mark.parametrize(("option", "answers", "scale"), [
    ("mock", True, targets.LOCAL_MOCK_WAIT_SCALE),  # the bundled mock
    ("http://127.0.0.1:9", True, targets.LOCAL_MOCK_WAIT_SCALE), ("http://localhost:9", True,
                                                                    targets.LOCAL_MOCK_WAIT_SCALE),
    ("http://10.0.0.7:8765", True, 1.0),  # our mock on another machine: the network is between
    ("http://127.0.0.1:9", False, 1.0),  # a loopback server that is not our mock
    ("testnet", False, 1.0), ("https://api.ztdx.io", False, 1.0)])
def test_only_the_mock_on_loopback_gets_shorter_waits(option: str, answers: bool, scale: float) -> None:
    """The waits for what a target does on its own (an order event, a late order) are shortened only where the
    suite knows it is done before the answer: its own mock, on this machine."""
    target = targets.resolve(option, mock_url="http://127.0.0.1:9", probe=Probe(answers=answers))
    assert target.wait_scale == scale
