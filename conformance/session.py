"""Run state shared by the plugin hooks: resolved target, catalogue, contract, deviations, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from conformance import REPORTS, catalogue, contract, deviations, targets
from conformance.catalogue import Catalogue
from conformance.contract import Contract
from conformance.deviations import Deviation
from conformance.errors import TargetUnavailable
from conformance.results import Results

EXIT_TARGET_UNAVAILABLE = 75  # EX_TEMPFAIL: the target could not be reached; no rule was judged


@dataclass
class RunState:
    target_option: str
    strict: bool
    reports: Path
    catalogue: Catalogue
    contract: Contract
    allow_mainnet_trading: bool = False
    provoke_limits: bool = False
    deviations_path: Path | None = None
    target: targets.Target | None = None
    deviations: dict[str, Deviation] = field(default_factory=dict)
    results: Results | None = None
    mock_server: Any = None

    @classmethod
    def from_config(cls, config: Any) -> RunState:
        opt = config.getoption
        reports = Path(opt("conformance_reports") or REPORTS)
        dev = opt("conformance_deviations")
        state = cls(opt("conformance_target"), bool(opt("conformance_strict")), reports,
                    catalogue.default(), contract.default(),
                    allow_mainnet_trading=bool(opt("conformance_allow_production_trading")),
                    provoke_limits=bool(opt("conformance_provoke_limits")),
                    deviations_path=Path(dev) if dev else None)
        state.results = Results(state.catalogue)
        return state

    def start(self) -> targets.Target:
        """Start the bundled mock if asked for, resolve the target, check it answers, load deviations."""
        mock_url = None
        if self.target_option == "mock":
            from conformance.mock import MockServer  # the mock is only imported when it is the target

            self.mock_server = MockServer(host="127.0.0.1", port=0)
            self.mock_server.start()
            mock_url = self.mock_server.url
        self.target = targets.resolve(self.target_option, mock_url=mock_url,
                                      allow_mainnet_trading=self.allow_mainnet_trading,
                                      provoke_limits=self.provoke_limits)
        self._check_reachable()
        path = self.deviations_path or deviations.path_for(self.target.name)
        self.deviations = deviations.load(path, self.catalogue)
        return self.target

    def _check_reachable(self) -> None:
        assert self.target is not None
        url = f"{self.target.base_url}/fapi/v1/time"
        try:
            response = httpx.get(url, timeout=10.0)
        except httpx.HTTPError as exc:
            raise TargetUnavailable(f"{self.target.base_url} is unreachable ({type(exc).__name__}: {exc})"
                                    " — check the URL, DNS, TLS and your network") from None
        if response.status_code in (418, 429):
            raise TargetUnavailable(f"{self.target.base_url} is rate-limiting this IP (HTTP {response.status_code},"
                                    f" Retry-After {response.headers.get('retry-after', '-')}) — wait and retry")
        if response.status_code >= 500:
            raise TargetUnavailable(f"{self.target.base_url} answers HTTP {response.status_code} — it is down")

    def stop(self) -> None:
        if self.mock_server is not None:
            self.mock_server.stop()
            self.mock_server = None

    def target_info(self) -> dict[str, Any]:
        if self.target is None:
            return {"option": self.target_option, "status": "unavailable"}
        return {**self.target.describe(), "status": "available", "strict": self.strict,
                "spec": str(self.contract.path.name), "catalogue": str(self.catalogue.path.name)}
