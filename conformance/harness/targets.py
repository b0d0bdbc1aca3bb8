"""Targets are configuration: where the suite points, with which capabilities and credentials."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from conformance.data.exceptions import ConfigError
from conformance.harness.redact import register_secret

TESTNET_URL = "https://api-sepolia.ztdx.io"
TESTNET_WS_URL = "wss://api-sepolia.ztdx.io/ws"  # general-info: "Testnet WebSocket base URL"
PRODUCTION_HOSTS = frozenset({"api.ztdx.io"})
TESTNET_HOSTS = frozenset({"api-sepolia.ztdx.io"})
MOCK_DEFAULT_KEY = "ztdx-test-key-0123456789"
MOCK_DEFAULT_SECRET = "ztdx-test-secret-0123456789"

# Capabilities a test may ask for with @pytest.mark.capability(...).
FAULTS = "faults"  # the /__mock__/ control API answers: faults, throttle, latency, limits
SIGNED = "signed"  # credentials are configured
TRADING = "trading"  # orders may be placed (never on production without the loud flag)
PROVOKE_LIMITS = "provoke-limits"  # deliberate over-limit traffic (429/418) is allowed
KNOWN_CAPABILITIES = frozenset({FAULTS, SIGNED, TRADING, PROVOKE_LIMITS})


@dataclass(frozen=True)
class Credentials:
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_MOCK_WAIT_SCALE = 0.25  # the mock publishes an order's event and stores the order before it answers


@dataclass(frozen=True)
class Target:
    """A resolved target: name, base URL, kind (mock/testnet/production/unknown) and capabilities."""

    name: str
    base_url: str
    kind: str
    capabilities: frozenset[str]
    credentials: Credentials | None = field(default=None, repr=False)
    # How long the suite waits for what the target does on its own (an order event, an order that may appear late),
    # as a share of the waits a remote exchange gets: the bundled mock on loopback acts before it answers.
    wait_scale: float = 1.0

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "base_url": self.base_url, "kind": self.kind,
                "capabilities": sorted(self.capabilities)}


def credentials_from_env(default_to_mock: bool) -> Credentials | None:
    key, secret = os.environ.get("ZTDX_API_KEY", ""), os.environ.get("ZTDX_API_SECRET", "")
    if key and secret:
        register_secret(key, secret)  # before anything could print them
        return Credentials(key, secret)
    if key or secret:
        missing = "ZTDX_API_SECRET" if key else "ZTDX_API_KEY"
        raise ConfigError(f"{missing} is not set — set both ZTDX_API_KEY and ZTDX_API_SECRET, or neither")
    return Credentials(MOCK_DEFAULT_KEY, MOCK_DEFAULT_SECRET) if default_to_mock else None


def validate_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"unknown target {value!r}: use 'mock', 'testnet', or an http(s) base URL such as http://127.0.0.1:8765"
        )
    return value.rstrip("/")


def probe_mock_health(base_url: str, timeout: float = 3.0) -> bool:
    """True when the target answers the mock control API (it can inject faults)."""
    try:
        # Plain http does no TLS: not loading the CA bundle saves ~15 ms (as in MockControl); https verifies.
        response = httpx.get(f"{base_url}/__mock__/health", timeout=timeout,
                             verify=not base_url.lower().startswith("http://"))
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def host_kind(base_url: str) -> str | None:
    """'production' or 'testnet' for the documented hosts, None for any other host."""
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    if host in PRODUCTION_HOSTS:
        return "production"
    return "testnet" if host in TESTNET_HOSTS else None


def capabilities_for(kind: str, creds: Credentials | None, *, allow_mainnet_trading: bool,
                     provoke_limits: bool, profile: str = "full") -> frozenset[str]:
    """Trading only where it cannot cost money (mock, testnet) unless the loud flag says otherwise;
    deliberate 429/418 traffic only on the mock, or on the testnet behind --conformance-provoke-limits."""
    if provoke_limits and kind not in ("mock", "testnet"):
        raise ConfigError(f"--conformance-provoke-limits is refused on a {kind} target: it would get this IP "
                          "banned (418); use the mock, or the testnet")
    caps: set[str] = set()
    if kind == "mock" and profile != "testnet":  # the testnet profile makes the mock act like the testnet
        caps |= {FAULTS, PROVOKE_LIMITS}
    if creds is not None:
        caps.add(SIGNED)
        if kind in ("mock", "testnet") or allow_mainnet_trading:
            caps.add(TRADING)
    if provoke_limits:
        caps.add(PROVOKE_LIMITS)
    return frozenset(caps)


def resolve(option: str, *, mock_url: str | None = None, allow_mainnet_trading: bool = False,
            provoke_limits: bool = False, profile: str = "full",
            probe: Callable[[str], bool] = probe_mock_health) -> Target:
    """Turn `--conformance-target` into a Target. `mock_url` is the in-process mock's URL for 'mock'.

    Documented hosts are classified by name and never probed; any other URL is a mock only when it
    answers /__mock__/health, otherwise 'unknown' — and unknown hosts get no trading capability."""
    if option == "mock":
        if mock_url is None:
            raise ConfigError("the bundled mock is not running (internal: no mock_url)")
        base_url, kind = mock_url, "mock"
    else:
        base_url = TESTNET_URL if option == "testnet" else validate_url(option)
        kind = host_kind(base_url) or ("mock" if probe(base_url) else "unknown")
    creds = credentials_from_env(default_to_mock=(kind == "mock"))
    name = "testnet" if kind == "testnet" else ("mock" if kind == "mock" else kind)
    caps = capabilities_for(kind, creds, allow_mainnet_trading=allow_mainnet_trading and kind != "mock",
                            provoke_limits=provoke_limits, profile=profile)
    local_mock = kind == "mock" and urlsplit(base_url).hostname in LOOPBACK_HOSTS
    return Target(name, base_url, kind, caps, creds, wait_scale=LOCAL_MOCK_WAIT_SCALE if local_mock else 1.0)


def guard_line(target: Target) -> str | None:
    """A loud line when trading is enabled on a host that is not known to be a testnet or mock."""
    if TRADING in target.capabilities and target.kind not in ("mock", "testnet"):
        return (f"WARNING: trading tests ENABLED on {target.kind} host {target.base_url} "
                "(--conformance-allow-production-trading): real orders with real funds")
    if target.kind not in ("mock", "testnet"):
        return (f"{target.kind} host {target.base_url}: trading tests refused (read-only checks run); "
                "--conformance-allow-production-trading overrides this")
    return None
