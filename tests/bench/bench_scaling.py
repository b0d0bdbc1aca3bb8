"""Scaling of the schema module: wall time against examples per operation and against added mock latency."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench_common import PYTHON, control, median, mock_process, timed
from bench_schema import SEED, measure, node_ids, public_operations, schema_module_cmd


def _row(samples: list[tuple[Any, int]], **key: Any) -> dict[str, Any]:
    seconds = median([t.seconds for t, _ in samples])
    requests = median([n for _, n in samples])
    return {**key, "seconds": seconds, "requests": requests,
            "ms_per_request": round(1000 * seconds / requests, 2) if requests else None,
            "runs": [round(t.seconds, 3) for t, _ in samples], "exit_codes": [t.returncode for t, _ in samples]}


def by_examples(repeats: int, counts: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every generated case sent (no budget sampling), so the work itself grows with the examples."""
    ops = public_operations()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, mock_process() as url:
        for examples in counts:
            samples = [measure(schema_module_cmd(url, ops, examples, Path(tmp)), url) for _ in range(repeats)]
            rows.append(_row(samples, examples=examples))
    fit = _linear_fit([(r["examples"], r["seconds"]) for r in rows])
    for row in rows:  # linear means every point sits on one line: fixed start-up cost + cost per example
        predicted = fit["intercept_s"] + fit["seconds_per_example"] * row["examples"]
        row["off_line_pct"] = round(100 * (row["seconds"] - predicted) / predicted, 1) if predicted else None
    return rows


def _linear_fit(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least-squares line through (examples, seconds)."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return {"intercept_s": my - slope * mx, "seconds_per_example": slope}


def _default_cmd(url: str, ops: list[str], examples: int, reports: Path) -> list[str]:
    """The schema module as users run it: default weight budget, so the governor's sampling and pacing apply."""
    return [PYTHON, "-m", "pytest", *node_ids(ops), "-q", "-p", "no:cacheprovider", "--no-header",
            f"--conformance-target={url}", f"--conformance-examples={examples}", f"--conformance-seed={SEED}",
            f"--conformance-reports={reports}"]


def by_latency(repeats: int, latencies: tuple[int, ...], examples: int) -> list[dict[str, Any]]:
    """Added per-request mock latency (the mock's --latency-ms, which survives the suite's resets)."""
    ops = public_operations()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for latency in latencies:
            with mock_process(latency_ms=latency) as url:
                samples = []
                for _ in range(repeats):
                    control(url, "reset", post=True)
                    run = timed(_default_cmd(url, ops, examples, Path(tmp)))
                    samples.append((run, int(control(url, "state")["requests"])))
            rows.append(_row(samples, latency_ms=latency, examples=examples))
    zero = rows[0]["seconds"]
    for row in rows:  # how much of the added latency shows up in wall time (1.0 = fully serial)
        added = (row["requests"] or 0) * row["latency_ms"] / 1000
        row["latency_exposed"] = round((row["seconds"] - zero) / added, 2) if added else None
    return rows

