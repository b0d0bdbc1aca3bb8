"""Roles of a `pytest conformance -n N` run (pytest-xdist) and how the workers' end-of-run figures are added up.

The controller (xdist's master) does what happens once: it starts the bundled mock, resolves and checks the target,
and writes rules.json, safety.json and the summary from what its workers send back. A worker runs tests against
the target the controller handed it. A run without xdist, or with `-n 0`, is serial: it does both, as before.
"""

from __future__ import annotations

from typing import Any

SERIAL, CONTROLLER, WORKER = "serial", "controller", "worker"
KEY = "fapi_conformance"  # our entry in xdist's workerinput / workeroutput
# Tests that change the target's state for everyone (faults, limits, throttle mode, a client driven into the
# limits): they hold the run's lock alone (conformance.harness.sharing.RunLock). A test may also say so with a mark.
EXCLUSIVE_FIXTURES = frozenset({"mock_control", "isolated_client", "persistent_client"})
# Account settings every order of every test depends on (position mode, margin type, leverage): a test that names
# one of these operations (a parameters flow, a generated case) changes them, so it runs alone too.
ACCOUNT_SETTINGS = frozenset({"changePositionMode", "changeMarginType", "changeLeverage"})


def role(config: Any) -> str:
    """serial, controller or worker; collect-only and `-n 0` runs are serial (xdist starts no worker for them)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return WORKER if KEY in workerinput else SERIAL
    dist = config.getoption("dist", "no")
    return CONTROLLER if dist not in (None, "no") and not config.option.collectonly else SERIAL


def handed(config: Any) -> tuple[dict[str, Any], str]:
    """What the controller handed this worker (RunState.handover) and the worker's ID."""
    return config.workerinput[KEY], str(config.workerinput.get("workerid", "gw?"))


def is_exclusive(item: Any) -> bool:
    from conformance.harness.selection import operations_of

    rules = [rid for mark in item.iter_markers("rule") for rid in mark.args]
    return item.get_closest_marker("exclusive") is not None or bool(
        EXCLUSIVE_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        ACCOUNT_SETTINGS & operations_of(item, set(ACCOUNT_SETTINGS), rules))


class Record:
    """A worker's retry or reconciliation, as the controller's summary and safety.json show it."""

    def __init__(self, data: dict[str, Any], line: str) -> None:
        self.data, self.text = data, line

    def as_dict(self) -> dict[str, Any]:
        return self.data

    def line(self) -> str:
        return self.text


def merged_cleanup(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Each worker cancelled what it opened; the run's cleanup is the sum of theirs (one line in the summary)."""
    done = [p for p in parts if p and "skipped" not in p]
    if not done:
        return next((p for p in parts if p), {})
    merged: dict[str, Any] = {"run_prefix": ",".join(str(p.get("run_prefix", "")) for p in done), "cancelled": 0,
                              "positions_closed": [], "open_orders_left": 0, "not_cancelled": {}, "left": []}
    errors = []
    for part in done:
        merged["cancelled"] += int(part.get("cancelled", 0))
        merged["positions_closed"] += list(part.get("positions_closed") or [])
        merged["not_cancelled"] |= dict(part.get("not_cancelled") or {})
        merged["left"] += list(part.get("left") or [])
        if part.get("open_orders_left") is None:
            merged["open_orders_left"] = None
        elif merged["open_orders_left"] is not None:
            merged["open_orders_left"] += int(part["open_orders_left"])
        if part.get("error"):
            errors.append(str(part["error"]))
    if errors:
        merged["error"] = "; ".join(errors)
    return merged
