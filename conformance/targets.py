"""Targets are configuration: where the suite points, with which capabilities and credentials."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from conformance.errors import ConfigError

TESTNET_URL = "https://api-sepolia.ztdx.io"
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


@dataclass(frozen=True)
class Target:
    """A resolved target: name, base URL, kind (mock/testnet/production/unknown) and capabilities."""

    name: str
    base_url: str
    kind: str
    capabilities: frozenset[str]
    credentials: Credentials | None = field(default=None, repr=False)

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "base_url": self.base_url, "kind": self.kind,
                "capabilities": sorted(self.capabilities)}


def credentials_from_env(default_to_mock: bool) -> Credentials | None:
    key, secret = os.environ.get("ZTDX_API_KEY", ""), os.environ.get("ZTDX_API_SECRET", "")
    if key and secret:
        return Credentials(key, secret)
    if key or secret:
        missing = "ZTDX_API_SECRET" if key else "ZTDX_API_KEY"
        raise ConfigError(f"{missing} is not set: set both ZTDX_API_KEY and ZTDX_API_SECRET, or neither")
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
        response = httpx.get(f"{base_url}/__mock__/health", timeout=timeout)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def classify(base_url: str, answers_health: bool) -> str:
    host = urlsplit(base_url).hostname or ""
    if host in PRODUCTION_HOSTS:
        return "production"
    if host in TESTNET_HOSTS:
        return "testnet"
    return "mock" if answers_health else "unknown"


def capabilities_for(kind: str, creds: Credentials | None, *, allow_mainnet_trading: bool,
                     provoke_limits: bool) -> frozenset[str]:
    caps: set[str] = set()
    if kind == "mock":
        caps |= {FAULTS, PROVOKE_LIMITS}
    if creds is not None:
        caps.add(SIGNED)
        if kind in ("mock", "testnet") or allow_mainnet_trading:
            caps.add(TRADING)
    if provoke_limits:
        caps.add(PROVOKE_LIMITS)
    return frozenset(caps)


def resolve(option: str, *, mock_url: str | None = None, allow_mainnet_trading: bool = False,
            provoke_limits: bool = False) -> Target:
    """Turn `--conformance-target` into a Target. `mock_url` is the in-process mock's URL for 'mock'."""
    if option == "mock":
        if mock_url is None:
            raise ConfigError("the bundled mock is not running (internal: no mock_url)")
        creds = credentials_from_env(default_to_mock=True)
        caps = capabilities_for("mock", creds, allow_mainnet_trading=False, provoke_limits=provoke_limits)
        return Target("mock", mock_url, "mock", caps, creds)
    base_url = TESTNET_URL if option == "testnet" else validate_url(option)
    kind = classify(base_url, answers_health=probe_mock_health(base_url) if option != "testnet" else False)
    creds = credentials_from_env(default_to_mock=(kind == "mock"))
    name = option if option == "testnet" else ("mock" if kind == "mock" else kind)
    caps = capabilities_for(kind, creds, allow_mainnet_trading=allow_mainnet_trading,
                            provoke_limits=provoke_limits)
    return Target(name, base_url, kind, caps, creds)
