"""Known deviations of a target: `fixtures/deviations/<target>.yaml`, each with a reason, link and review date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from conformance import FIXTURES
from conformance.catalogue import Catalogue
from conformance.errors import ConfigError, read_yaml

DEVIATIONS_DIR = FIXTURES / "deviations"


@dataclass(frozen=True)
class Deviation:
    rule: str
    reason: str
    link: str
    review: dt.date


def path_for(target_name: str) -> Path:
    return DEVIATIONS_DIR / f"{target_name}.yaml"


def load(path: Path, catalogue: Catalogue) -> dict[str, Deviation]:
    """Deviations by rule ID; a missing file means none, a malformed one is a one-line ConfigError."""
    if not path.exists():
        return {}
    data = read_yaml(path, "deviations file") or {}
    entries = data.get("deviations") if isinstance(data, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ConfigError(f"{path.name}: 'deviations' must be a list")
    found: dict[str, Deviation] = {}
    for index, entry in enumerate(entries):
        where = f"{path.name}: deviation #{index + 1}"
        if not isinstance(entry, dict) or not all(entry.get(k) for k in ("rule", "reason", "link", "review")):
            raise ConfigError(f"{where} needs rule, reason, link and review (a date)")
        catalogue[entry["rule"]]  # an unknown rule ID is a CatalogueError
        review = entry["review"]
        if not isinstance(review, dt.date):
            raise ConfigError(f"{where}: review must be a date like 2027-01-31")
        found[entry["rule"]] = Deviation(entry["rule"], str(entry["reason"]), str(entry["link"]), review)
    return found
