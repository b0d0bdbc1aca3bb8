"""The suite's side of the mock control API (`/__mock__/`): faults, throttle, latency, limits, state."""

from __future__ import annotations

from typing import Any

import httpx

from conformance.data.exceptions import HarnessError


class MockControl:
    """Drives a target that has the `faults` capability; `reset()` after each test that used it."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        # Plain http never does TLS: verify=False only skips loading the CA bundle, ~40-120 ms per client (one per
        # test that uses the control API). An https URL keeps full verification.
        self.http = httpx.Client(base_url=f"{base_url}/__mock__", timeout=timeout,
                                 verify=not base_url.lower().startswith("http://"))

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {})
        if response.status_code != 200:
            raise HarnessError(f"mock control {path} answered HTTP {response.status_code}: {response.text[:200]}")
        return response.json()

    def fault(self, kind: str, *, method: str | None = None, path: str | None = None, count: int = 1,
              executed: bool = True) -> Any:
        return self._post("/faults", {"kind": kind, "method": method, "path": path, "count": count,
                                      "executed": executed})

    def throttle(self, enabled: bool = True) -> Any:
        return self._post("/throttle", {"enabled": enabled})

    def latency(self, ms: float, jitter_ms: float = 0) -> Any:
        return self._post("/latency", {"ms": ms, "jitter_ms": jitter_ms})

    def limits(self, **values: int) -> Any:
        return self._post("/limits", values)

    def reset(self) -> Any:
        return self._post("/reset")

    def current_limits(self) -> dict[str, int]:
        response = self.http.get("/limits")
        if response.status_code != 200:
            raise HarnessError(f"mock control /limits answered HTTP {response.status_code}: {response.text[:200]}")
        return dict(response.json())

    def calm(self, limits: dict[str, int]) -> None:
        """Back to `limits` with no fault pending and throttle off — orders and positions stay as they are (for the
        end-of-run cleanup after an interrupted test left tiny limits or a ban behind)."""
        self.http.delete("/faults")
        self._post("/throttle", {"enabled": False})
        self._post("/limits", limits)

    def state(self) -> Any:
        return self.http.get("/state").json()

    def close(self) -> None:
        self.http.close()
