"""The schema module against `st run` on the same spec, mock, operations, phases, examples and checks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bench_common import PYTHON, ROOT, Timed, control, failed_lines, median, mock_process, timed

SPEC = ROOT / "fixtures" / "openapi.yaml"
HERE = Path(__file__).resolve().parent
PHASES = ("examples", "coverage", "fuzzing")
MODES = ("positive", "negative")
# The checks the schema module runs per exchange: schemathesis' six plus the suite's own (as a hook check).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
          "fapi_conformance_bench")
ST_CONFIG = ('[generation]\nallow-extra-parameters = false\n'  # as conformance/schemathesis_checks.load_schema
             '[checks.negative_data_rejection]\nexpected-statuses = ["4XX"]\n'
             '[checks.positive_data_acceptance]\nexpected-statuses = ["2XX", "401", "403", "404", "405", "418", "429", '
             '"5XX"]\n')
# A budget large enough that the module's weight sampling drops no case: both runners send every case.
UNSAMPLED_BUDGET = "1000"
SEED = 20261125
CASE_CACHE_VAR = "FAPI_CONFORMANCE_CASE_CACHE"  # conformance/harness/case_cache.py


def public_operations() -> list[str]:
    """Operations without signing: `st run` cannot sign a request, so only these compare honestly."""
    import sys

    sys.path.insert(0, str(ROOT))
    from conformance.data import contract

    return sorted(op.id for op in contract.default().operations.values() if not op.signed)


def node_ids(ops: list[str]) -> list[str]:
    test = "conformance/test_schema.py::test_generated_requests_get_documented_answers"
    return [f"{test}[{op}-{phase}-{mode}]" for op in ops for phase in PHASES for mode in MODES
            if not (phase == "examples" and mode == "negative")]


def schema_module_cmd(url: str, ops: list[str], examples: int, reports: Path) -> list[str]:
    return [PYTHON, "-m", "pytest", *node_ids(ops), "-q", "-p", "no:cacheprovider", "--no-header",
            f"--conformance-target={url}", f"--conformance-examples={examples}", f"--conformance-seed={SEED}",
            f"--conformance-budget={UNSAMPLED_BUDGET}", f"--conformance-reports={reports}"]


def st_cmd(url: str, ops: list[str], examples: int, config: Path, mode: str = "all") -> list[str]:
    include = [arg for op in ops for arg in ("--include-operation-id", op)]
    return [str(Path(PYTHON).with_name("st")), "--config-file", str(config), "run", str(SPEC), "--url", url,
            "--phases", ",".join(PHASES), "--mode", mode, "--max-examples", str(examples), "--seed", str(SEED),
            "--checks", ",".join(CHECKS), "--workers", "1", "--no-shrink", "--generation-database", "none",
            "--no-color", *include]


def measure(cmd: list[str], url: str, env: dict[str, str] | None = None) -> tuple[Timed, int]:
    """One timed run against a freshly reset mock, with the number of fapi requests the mock answered."""
    control(url, "reset", post=True)
    control(url, "limits", {"weight_per_minute": 10**9, "orders_per_10s": 10**9, "orders_per_minute": 10**9})
    run = timed(cmd, env)
    return run, int(control(url, "state")["requests"])


def _summed(runs: list[tuple[Timed, int]]) -> tuple[Timed, int]:
    """Two runs taken as one: their wall times and request counts added, the worse exit code kept."""
    seconds = sum(t.seconds for t, _ in runs)
    code = max((t.returncode for t, _ in runs), key=abs)
    failures = [line for t, _ in runs for line in t.failures]
    return Timed(seconds, code, " + ".join(t.tail for t, _ in runs), failures), sum(n for _, n in runs)


def compare(repeats: int, examples: int) -> dict[str, Any]:
    """Median wall time of both runners on the public operations, and their ratio (goal: at most 1.2).

    The module generates each mode separately (`--conformance-examples` fuzzing cases that are all positive, then as
    many that are all negative). `st run --mode all` draws its `--max-examples` fuzzing cases from both modes
    together, so it generates about half as many; `st run --mode positive` plus `st run --mode negative` generates
    the same cases as the module, and is the figure compared. The single `--mode all` run is reported beside it.
    """
    ops = public_operations()
    runs: dict[str, list[tuple[Timed, int]]] = {"suite": [], "st": [], "st_mode_all": [], "suite_warm": []}
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cases, mock_process() as url:
        # "suite" generates every case, as st run does; "suite_warm" reads them from a case cache an earlier run
        # filled (conformance/harness/case_cache.py), as a user's second run does.
        cold, warm = {CASE_CACHE_VAR: "off"}, {CASE_CACHE_VAR: cases}
        measure(schema_module_cmd(url, ops, examples, Path(tmp) / "r"), url, warm)  # fills the cache, untimed
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(ST_CONFIG)
        # bench_hooks also loads conformance.tools.st_hooks: the target's symbols, ordered windows, as the module does
        env = {"SCHEMATHESIS_HOOKS": "bench_hooks", "PYTHONPATH": f"{HERE}{os.pathsep}{ROOT}",
               "FAPI_CONFORMANCE_URL": url}
        for _ in range(repeats):  # interleaved, so drift on a shared runner hits both alike
            runs["suite"].append(measure(schema_module_cmd(url, ops, examples, Path(tmp) / "r"), url, cold))
            runs["suite_warm"].append(measure(schema_module_cmd(url, ops, examples, Path(tmp) / "r"), url, warm))
            runs["st"].append(_summed([measure(st_cmd(url, ops, examples, config, mode), url, env)
                                       for mode in MODES]))
            runs["st_mode_all"].append(measure(st_cmd(url, ops, examples, config, "all"), url, env))
    out: dict[str, Any] = {"operations": ops, "examples": examples, "phases": list(PHASES), "modes": list(MODES),
                           "checks": list(CHECKS)}
    for name, samples in runs.items():
        out[name] = {"seconds": median([t.seconds for t, _ in samples]),
                     "requests": median([n for _, n in samples]),
                     "runs": [round(t.seconds, 3) for t, _ in samples],
                     "exit_codes": [t.returncode for t, _ in samples], "last_line": samples[-1][0].tail,
                     "failures": failed_lines(t for t, _ in samples)}
    out["ratio"] = round(out["suite"]["seconds"] / out["st"]["seconds"], 3)
    out["ratio_mode_all"] = round(out["suite"]["seconds"] / out["st_mode_all"]["seconds"], 3)
    out["ratio_warm"] = round(out["suite_warm"]["seconds"] / out["st"]["seconds"], 3)
    return out
