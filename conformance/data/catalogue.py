"""The rule catalogue: `fixtures/rules.yaml` loaded into immutable `Rule` records, validated on load."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance import FIXTURES
from conformance.data import inputs
from conformance.data.exceptions import CatalogueError

RULES_PATH = FIXTURES / "rules.yaml"
ID_PATTERN = re.compile(r"^[a-z0-9]+\.[A-Za-z0-9][A-Za-z0-9-]*$")  # also in fixtures/schemas/rules.schema.json
REQUIRED = ("id", "title", "level", "section", "link", "quote")
OPTIONAL = ("source", "messages", "note", "operation")


@dataclass(frozen=True)
class Rule:
    """One documented requirement, quoted verbatim from its doc."""

    id: str
    title: str
    level: str
    section: str
    link: str
    quote: str
    source: str = "general-info"
    messages: tuple[str, ...] = field(default=())
    note: str = ""
    operation: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def is_must(self) -> bool:
        return self.level == "MUST"


class Catalogue(Mapping[str, Rule]):
    """Rules by ID; looking up an unknown ID raises `CatalogueError`."""

    def __init__(self, rules: list[Rule], path: Path) -> None:
        self._rules = {rule.id: rule for rule in rules}
        self.path = path

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise CatalogueError(
                f"unknown rule ID {rule_id!r} — add it to {self.path.name} or fix the reference"
            ) from None

    def __contains__(self, rule_id: object) -> bool:  # Mapping's default would raise CatalogueError, not answer
        return rule_id in self._rules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


def _rule(entry: dict[str, Any]) -> Rule:
    values = {key: entry[key] for key in REQUIRED + OPTIONAL if key in entry}
    values["messages"] = tuple(entry.get("messages") or ())
    return Rule(**values)


def load(path: Path = RULES_PATH) -> Catalogue:
    """Load a catalogue file held to fixtures/schemas/rules.schema.json; every problem is one located line."""
    data = inputs.load(path, "rules", "rule catalogue", CatalogueError)
    seen: set[str] = set()
    for index, entry in enumerate(data["rules"]):
        if entry["id"] in seen:
            raise inputs.fail_at(path, ["rules", index, "id"], f"duplicate rule ID {entry['id']!r}",
                                 "IDs are never reused: give this rule a new ID", CatalogueError)
        seen.add(entry["id"])
    return Catalogue([_rule(entry) for entry in data["rules"]], path)


@cache
def default() -> Catalogue:
    """The project catalogue, loaded once."""
    return load(RULES_PATH)
