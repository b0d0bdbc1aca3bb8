"""The ZTDX WebSocket protocol as data: `fixtures/asyncapi.yaml` (AsyncAPI 3.0), checked at load like the REST spec."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conformance import FIXTURES
from conformance.data import inputs

ASYNCAPI_PATH = FIXTURES / "asyncapi.yaml"


@dataclass(frozen=True, eq=False)  # hashed by identity: checks cache a validator per document
class AsyncApi:
    document: dict[str, Any]

    def message(self, name: str) -> dict[str, Any]:
        message: dict[str, Any] = self.document["components"]["messages"].get(name, {})
        return message

    def payload(self, name: str) -> dict[str, Any]:
        payload: dict[str, Any] = self.message(name).get("payload", {})
        return payload

    def cadence_ms(self, name: str) -> int | None:
        value = self.message(name).get("x-cadence-ms")
        return int(value) if value is not None else None

    @property
    def cadence_tolerance(self) -> float:
        return float(self.document["info"]["x-cadence-tolerance"])

    @property
    def suite_limits(self) -> dict[str, Any]:
        limits: dict[str, Any] = self.document["info"]["x-suite-limits"]
        return limits

    @property
    def private_channels(self) -> list[str]:
        return list(self.document["info"]["x-private-channels"])


def load(path: Path) -> AsyncApi:
    """Read and check the AsyncAPI document: a missing or malformed file is one located line (exit 4)."""
    return AsyncApi(inputs.load(path, "asyncapi", "WebSocket contract (AsyncAPI)"))


@cache
def default() -> AsyncApi:
    return load(ASYNCAPI_PATH)
