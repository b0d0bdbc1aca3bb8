"""Run state shared by the plugin hooks: resolved target, catalogue, contract, deviations, results.

Exit statuses of a conformance run (`pytest conformance ...`):
  0   every judged rule held (skips for missing capabilities or known deviations do not count against it)
  1   a MUST rule failed (or, with --conformance-strict, a SHOULD rule), or the harness itself broke (error)
  2   interrupted (Ctrl-C); the end-of-run cleanup still ran and the summary shows the open orders left
  4   usage or configuration error: bad option or input file, unknown rule ID or capability, half-set or (for the
      testnet) missing credentials, keys over plain http to a remote host
  5   nothing selected (pytest's own status: e.g. -k or -m matched no test)
  75  target unavailable (EX_TEMPFAIL): unreachable host, DNS or TLS failure, rejected API key,
      a target that rate-limits the run (429/418) or leaves most tests unjudged — never a contract verdict
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from conformance import REPORTS
from conformance.data import catalogue, contract, deviations, wscontract
from conformance.data.catalogue import Catalogue
from conformance.data.contract import Contract
from conformance.data.deviations import Deviation
from conformance.data.exceptions import ConfigError, HarnessError, TargetUnavailable
from conformance.data.wscontract import AsyncApi
from conformance.harness import targets
from conformance.harness.client import Client
from conformance.harness.governor import Governor
from conformance.harness.journal import Journal
from conformance.harness.results import Results
from conformance.harness.wsclient import WsBudget, derived_ws_url

DEFAULT_BUDGET = 0.5  # share of the documented per-minute limits a run may use
BUNDLED_MOCK_SCALE = 10  # the bundled mock (full profile) runs with 10x the documented limits
EXIT_TARGET_UNAVAILABLE = 75  # EX_TEMPFAIL: the target could not be reached; no rule was judged
PREFLIGHT_PATH = "/fapi/v1/positionSide/dual"  # signed, weight 1, changes nothing
# Answers that mean "these credentials are not accepted" (fapi-contract §2.4), not a contract verdict.
REJECTED_KEY_CODES = (-1002, -1022, -2014, -2015)
ANSWERS_KEPT = 200  # 2XX answers kept per operation for the passive schema tests (the latest ones)


class Observed:
    """A client listener: answers with a classified status (403/408/418/429/5XX), the latest `limit` of them."""

    def __init__(self, limit: int = 500) -> None:
        self.exchanges: deque[Any] = deque(maxlen=limit)
        self.outbox: list[Any] | None = None  # a `-n N` worker posts what it saw to the others (harness.sharing)

    def __call__(self, ex: Any) -> None:
        # Imported on use: the check modules load the catalogue and the spec, which the plugin validates first
        # (a malformed rules.yaml or openapi.yaml is one located line, not an import-time traceback).
        from conformance.checks.http import classified

        if classified(ex):
            self.exchanges.append(ex)
            if self.outbox is not None:
                self.outbox.append(ex)


def _mock_limits(base_url: str) -> dict[str, int] | None:
    from conformance.harness.mock_control import MockControl

    control = MockControl(base_url)
    try:
        return control.current_limits()
    except (HarnessError, httpx.HTTPError, ValueError):
        return None
    finally:
        control.close()


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
    profile: str = "full"
    budget: float | None = None  # None: DEFAULT_BUDGET, or BUNDLED_MOCK_SCALE times that on the bundled mock
    target: targets.Target | None = None
    deviations: dict[str, Deviation] = field(default_factory=dict)
    results: Results | None = None
    mock_server: Any = None
    run_status: str = "available"  # set by the safety hooks: "target unavailable", "interrupted", ...
    run_status_line: str = ""
    unavailable: str = ""  # set when the target could not be reached at start: nothing is run
    answers: dict[str, deque[Any]] = field(default_factory=dict)  # operationId -> 2XX exchanges seen in the run
    mock_limits: dict[str, int] | None = None  # a faults-capable target's rate limits at the start of the run
    selected_rules: set[str] | None = None  # --conformance-rule: None runs every rule
    selected_operations: set[str] | None = None  # --conformance-operation: None runs every operation
    journal: Journal = field(default_factory=Journal)  # orders sent, retries, reconciliations, order factories
    ws_url_option: str | None = None  # --conformance-ws-url
    asyncapi: AsyncApi | None = None  # fixtures/asyncapi.yaml, checked at load
    ws_url: str = ""  # where test_ws.py connects (resolved in start)
    ws_budget: WsBudget | None = None  # connections and message rate of the run (x-suite-limits)
    order_stream: str = ""  # whether the run listens to the order channel (harness/orderstream.py), and why not
    # What test_http/test_errors clients saw with a classified status, for the passive classifier test.
    classified: Observed = field(default_factory=Observed)
    governor: Governor | None = None  # the run's budget, made in start(): every request of the run is paid from it
    # `-n N` (pytest-xdist, conformance/plugins/parallel.py): the run's shared folder (budget ledger, lock, board), set
    # in the controller and in every worker; `worker` is the worker's ID (gw0, ...), empty in the controller and
    # serial runs.
    shared: Path | None = None
    worker: str = ""
    outbox: list[Any] | None = None  # a worker's 2XX answers not yet posted to the others
    tallies: list[dict[str, Any]] = field(default_factory=list)  # a worker's positive-acceptance tallies

    @classmethod
    def from_config(cls, config: Any) -> RunState:
        opt = config.getoption
        reports = Path(opt("conformance_reports") or REPORTS)
        dev = opt("conformance_deviations")
        state = cls(opt("conformance_target"), bool(opt("conformance_strict")), reports,
                    catalogue.default(), contract.default(),
                    allow_mainnet_trading=bool(opt("conformance_allow_production_trading")),
                    provoke_limits=bool(opt("conformance_provoke_limits")),
                    deviations_path=Path(dev) if dev else None,
                    profile=str(opt("conformance_profile", "full") or "full"),
                    budget=opt("conformance_budget", None), ws_url_option=opt("conformance_ws_url", None),
                    asyncapi=(api := wscontract.default()))
        state.ws_budget = WsBudget.from_limits(api.suite_limits)
        deviations.check_all(state.catalogue)
        state.results = Results(state.catalogue)
        return state

    def start(self) -> targets.Target:
        """Start the bundled mock if asked for, resolve the target, check it answers, load deviations."""
        mock_url = None
        scale = BUNDLED_MOCK_SCALE if self.target_option == "mock" and self.profile == "full" else 1
        if self.budget is None:
            self.budget = DEFAULT_BUDGET * scale
        if self.target_option == "mock":
            from conformance.mock.server import MockProcess  # only imported when it is the target

            # Local and ours: pacing it to a live exchange's budget would only cost time. The testnet profile
            # keeps the documented limits, so its pacing is what the testnet would see.
            # Its /ws publishes `scale` times as often as documented: a faster cadence conforms, and costs no wait.
            # In a process of its own: its CPU on another core, not in this process's one GIL.
            self.mock_server = MockProcess(host="127.0.0.1", port=0, limits_scale=scale, ws_cadence_scale=1 / scale)
            try:
                self.mock_server.start()
            except (RuntimeError, OSError) as exc:  # its reason is the child's last line of stderr
                raise TargetUnavailable(f"the bundled mock could not start ({exc}) — run `python -m"
                                        " conformance.mock` to see its error, or reinstall the package") from None
            mock_url = self.mock_server.url
        self.target = targets.resolve(self.target_option, mock_url=mock_url,
                                      allow_mainnet_trading=self.allow_mainnet_trading,
                                      provoke_limits=self.provoke_limits, profile=self.profile)
        self._resolve_ws_url()
        creds = self.target.credentials
        if creds is None and (self.target.kind == "testnet" or self.profile == "testnet"):
            raise ConfigError("no credentials: set ZTDX_API_KEY and ZTDX_API_SECRET (a testnet API key) —"
                              " nothing was sent")
        self.governor = self._governor()
        self._check_reachable()
        self._check_credentials()
        if self.target.has(targets.FAULTS):  # the limits the run starts with, restored before the cleanup
            self.mock_limits = _mock_limits(self.target.base_url)
        path = self.deviations_path or deviations.path_for(self.target.name)
        self.deviations = deviations.load(path, self.catalogue, required=self.deviations_path is not None)
        return self.target

    def _governor(self) -> Governor:
        if self.shared is None:
            return Governor(share=self.budget or DEFAULT_BUDGET)
        from conformance.harness.sharing import SharedGovernor  # only a `-n N` run shares its budget through a file

        return SharedGovernor(self.shared, share=self.budget or DEFAULT_BUDGET)

    def handover(self) -> dict[str, Any]:
        """What a `-n N` worker needs of the controller's start(): the resolved target, not a second mock or check."""
        target = self.target
        return {"base_url": target.base_url if target else "", "kind": target.kind if target else "",
                "budget": self.budget, "unavailable": self.unavailable, "mock_limits": self.mock_limits,
                "shared": str(self.shared)}

    def attach(self, handed: dict[str, Any], worker: str) -> None:
        """A worker's start(): the controller's target and budget; nothing is started or sent here."""
        self.worker, self.shared, self.budget = worker, Path(handed["shared"]), handed["budget"]
        self.unavailable, self.mock_limits = handed["unavailable"], handed["mock_limits"]
        self.outbox, self.classified.outbox = [], []
        if not handed["base_url"]:
            return
        option, kind = self.target_option, handed["kind"]
        self.target = targets.resolve(option, mock_url=handed["base_url"] if option == "mock" else None,
                                      allow_mainnet_trading=self.allow_mainnet_trading,
                                      provoke_limits=self.provoke_limits, profile=self.profile,
                                      probe=lambda _url: kind == "mock")
        self._resolve_ws_url()
        self.governor = self._governor()
        path = self.deviations_path or deviations.path_for(self.target.name)
        self.deviations = deviations.load(path, self.catalogue, required=self.deviations_path is not None)

    def _resolve_ws_url(self) -> None:
        assert self.target is not None
        if self.ws_url_option:
            self.ws_url = self.ws_url_option
        elif self.target.kind == "testnet":
            self.ws_url = targets.TESTNET_WS_URL
        else:  # the bundled mock serves /ws beside the fapi; any other host is asked at the same place
            self.ws_url = derived_ws_url(self.target.base_url)

    def _check_reachable(self) -> None:
        assert self.target is not None
        url = f"{self.target.base_url}/fapi/v1/time"
        assert self.governor is not None
        self.governor.acquire(1)  # GET /fapi/v1/time, weight 1: the target counts it like any other request
        try:
            response = httpx.get(url, timeout=10.0, verify=not url.lower().startswith("http://"))  # as in Client
        except httpx.HTTPError as exc:
            raise TargetUnavailable(f"{self.target.base_url} is unreachable ({type(exc).__name__}: {exc})"
                                    " — check the URL, DNS, TLS and your network") from None
        used = response.headers.get("x-mbx-used-weight-1m", "")
        if used.isdigit():
            self.governor.note_server_weight(int(used))
        if response.status_code in (418, 429):
            raise TargetUnavailable(f"{self.target.base_url} is rate-limiting this IP (HTTP {response.status_code},"
                                    f" Retry-After {response.headers.get('retry-after', '-')}) — wait and retry")
        if response.status_code >= 500:
            raise TargetUnavailable(f"{self.target.base_url} answers HTTP {response.status_code} — it is down")

    def _check_credentials(self) -> None:
        """One cheap signed call, so a rejected key is one clear line instead of a flood of failed rules."""
        assert self.target is not None
        creds = self.target.credentials
        if creds is None:
            return
        client = Client(self.target, contract=self.contract, governor=self.governor,
                        journal=self.journal)
        try:
            ex = client.call("GET", PREFLIGHT_PATH, allow_faults=True)
        finally:
            client.close()
        code = ex.response.error.code if ex.response.error else None
        if ex.response.status == 401 or code in REJECTED_KEY_CODES:
            raise TargetUnavailable(f"{self.target.base_url} rejects the API credentials (HTTP {ex.response.status},"
                                    f" code {code}) — check ZTDX_API_KEY and ZTDX_API_SECRET")
        if code == -1021:
            raise TargetUnavailable(f"{self.target.base_url} rejects this machine's timestamps (code -1021) —"
                                    " synchronise the clock")

    def observe(self, exchange: Any) -> None:
        """A client listener: every 2XX JSON answer of a documented operation, for test_observed.py."""
        if exchange.operation is not None and 200 <= exchange.response.status < 300 and exchange.response.is_json:
            self.answers.setdefault(exchange.operation_id, deque(maxlen=ANSWERS_KEPT)).append(exchange)
            if self.outbox is not None:
                self.outbox.append(exchange)

    def stop(self) -> None:
        if self.mock_server is not None:
            self.mock_server.stop()
            self.mock_server = None

    def target_info(self) -> dict[str, Any]:
        if self.target is None:
            return {"option": self.target_option, "status": "unavailable"}
        info = {**self.target.describe(), "status": self.run_status, "strict": self.strict,
                "profile": self.profile, "spec": str(self.contract.path.name),
                "catalogue": str(self.catalogue.path.name), "ws_url": self.ws_url,
                **({"ws_connections": self.ws_budget.describe()} if self.ws_budget else {}),
                **({"order_stream": self.order_stream} if self.order_stream else {})}
        return info | ({"status_line": self.run_status_line} if self.run_status_line else {})
