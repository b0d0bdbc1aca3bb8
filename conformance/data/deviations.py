"""Known deviations of a target: `fixtures/deviations/<target>.yaml`, each with a reason, link and review date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from conformance import FIXTURES
from conformance.data import inputs
from conformance.data.catalogue import Catalogue

DEVIATIONS_DIR = FIXTURES / "deviations"


@dataclass(frozen=True)
class Deviation:
    rule: str
    reason: str
    link: str
    review: dt.date


def path_for(target_name: str) -> Path:
    return DEVIATIONS_DIR / f"{target_name}.yaml"


def load(path: Path, catalogue: Catalogue, *, required: bool = False) -> dict[str, Deviation]:
    """Deviations by rule ID, held to fixtures/schemas/deviations.schema.json; every problem is one located line.

    A missing default file means none; a file the user named (`required`) must exist."""
    if not path.exists() and not required:
        return {}
    data = inputs.load(path, "deviations", "deviations file") or {}
    found: dict[str, Deviation] = {}
    for index, entry in enumerate(data.get("deviations") or []):
        if entry["rule"] not in catalogue:
            raise inputs.fail_at(path, ["deviations", index, "rule"], f"unknown rule ID {entry['rule']!r}",
                                 f"use a rule ID of {catalogue.path.name}")
        review = entry["review"]
        if not isinstance(review, dt.date):
            try:
                review = dt.date.fromisoformat(str(review))
            except ValueError:
                raise inputs.fail_at(path, ["deviations", index, "review"], f"review {review!r} is not a date",
                                     "write a real date as YYYY-MM-DD, e.g. 2027-01-31") from None
        found[entry["rule"]] = Deviation(entry["rule"], str(entry["reason"]), str(entry["link"]), review)
    return found


def check_all(catalogue: Catalogue, folder: Path = DEVIATIONS_DIR) -> None:
    """Every deviations file of the repository, whichever target this run uses: a broken one is caught at load."""
    for path in sorted(folder.glob("*.yaml")):
        load(path, catalogue, required=True)
