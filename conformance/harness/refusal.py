"""A run refused before any test ran (bad input or configuration): rules.json and safety.json say so, no verdicts.

Without this, the files of the previous run would stay in the reports folder and read as this run's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance import REPORTS
from conformance.harness import redact

STATUS = "configuration error"


def reports_folder(config: Any) -> Path | None:
    raw = config.getoption("conformance_reports", None)
    path = Path(str(raw)) if raw else REPORTS
    return None if path.exists() and not path.is_dir() else path


def record(config: Any, line: str, target: dict[str, Any] | None = None) -> None:
    """Write rules.json (no rule judged) and safety.json (nothing sent) with the refusal's one line."""
    folder = reports_folder(config)
    if folder is None:
        return
    info = {**(target or {"option": str(config.getoption("conformance_target", "") or "")}),
            "status": STATUS, "status_line": line}
    rules = {"target": info, "summary": {}, "rules": []}
    safety = {"status": STATUS, "status_line": line, "tests_run": 0, "tests_unavailable": 0, "governor": None,
              "cleanup": {"skipped": "the run was refused before it started"}, "retries": [], "unknown_outcomes": []}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in (("rules.json", rules), ("safety.json", safety)):
            (folder / name).write_text(redact.redact(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
    except OSError:
        pass  # the folder is unusable: the one line on stderr still says what is wrong
